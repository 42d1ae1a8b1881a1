package main

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
	"github.com/corsaudit/corsaudit/pipeline"
)

// TestDemoFindingsReproduce audits the demo fleet and runs each finding's
// curl command against it while it is still up: the command must show what
// the finding says.
func TestDemoFindingsReproduce(t *testing.T) {
	curl := testenv.LookTool(t, "curl reproductions", "curl")
	fleet, err := startDemoFleet()
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	var log bytes.Buffer
	built, err := fleet.config.Build()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pipeline.Audit(context.Background(), built, pipeline.Options{Log: &log})
	if err != nil {
		t.Fatalf("demo run: %v\n%s", err, log.String())
	}
	byKind := map[diff.Kind][]diff.Finding{}
	for _, f := range rep.Findings {
		byKind[f.Kind] = append(byKind[f.Kind], f)
	}
	for _, tc := range []struct {
		desc      string
		kind      diff.Kind
		instances string
		// curlOut must appear in what the reproduction prints.
		curlOut string
		curlErr bool
	}{
		{"drifted instance", diff.KindVerdictDrift, "web-07", "Access-Control-Allow-Methods: GET, POST", false},
		{"unreachable instance", diff.KindUnreachable, "web-12", "", true},
		{"redirecting LB", diff.KindLBRedirect, "lb", "HTTP/1.1 301 Moved Permanently", false},
	} {
		fs := byKind[tc.kind]
		if len(fs) == 0 {
			t.Errorf("%s: no %s finding in %v", tc.desc, tc.kind, rep.Summary.ByKind)
			continue
		}
		f := fs[len(fs)-1]
		if got := strings.Join(f.Instances, ","); got != tc.instances {
			t.Errorf("%s: instances = %s, want %s", tc.desc, got, tc.instances)
		}
		cmd := strings.Replace(f.Reproduce, "curl ", curl+" --max-time 5 ", 1)
		out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
		if tc.curlErr != (err != nil) {
			t.Errorf("%s: `%s`: err = %v, want error %v\n%s", tc.desc, f.Reproduce, err, tc.curlErr, out)
		}
		if !strings.Contains(string(out), tc.curlOut) {
			t.Errorf("%s: `%s` printed\n%s\nwant it to contain %q", tc.desc, f.Reproduce, out, tc.curlOut)
		}
	}
	// One cause per finding: web-07's config on both paths, with the
	// requests through the load balancer that land on it on /v1/items
	// (the load balancer redirects the preflights on /v1/cart).
	if fs := byKind[diff.KindVerdictDrift]; len(fs) != 1 || !slices.Equal(fs[0].Paths, lab.DemoPaths) ||
		!slices.Equal(fs[0].Explains, []diff.Kind{diff.KindVerdictDrift, diff.KindLBMismatch}) || fs[0].Share == 0 {
		t.Errorf("verdict-drift findings %+v, want one on both paths explaining the load balancer's samples", fs)
	}
	for kind := range byKind {
		switch kind {
		case diff.KindVerdictDrift, diff.KindUnreachable, diff.KindLBRedirect:
		default:
			t.Errorf("unexpected %s finding in the demo: %+v", kind, byKind[kind])
		}
	}
}
