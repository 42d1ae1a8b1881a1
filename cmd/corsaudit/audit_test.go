package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// fleet starts labservers on loopback and checks, at cleanup, that none ever
// received an unsafe actual request or a cookie.
type fleet struct {
	t       *testing.T
	servers map[string]*labserver.Server
}

func newFleet(t *testing.T) *fleet {
	f := &fleet{t: t, servers: map[string]*labserver.Server{}}
	t.Cleanup(func() {
		for id, s := range f.servers {
			st := s.Stats()
			if st.Unsafe != 0 || st.Cookies != 0 || st.Authorization != 0 {
				t.Errorf("instance %s received %d unsafe actual requests, %d cookies, %d Authorization headers", id, st.Unsafe, st.Cookies, st.Authorization)
			}
		}
	})
	return f
}

// start serves b on a loopback port and returns its address.
func (f *fleet) start(id string, b labserver.Behavior) string {
	b.ID = id
	s := labserver.New(b)
	f.servers[id] = s
	srv := httptest.NewServer(s)
	f.t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// currentCORS and olderCORS are the lab's current/older fleet configs.
var (
	currentCORS = lab.Fleet(1, nil)[0].Behavior
	olderCORS   = lab.Fleet(1, func(int) bool { return true })[0].Behavior
)

const testPolicyYAML = `
    policy:
      origins: [https://app.example.com]
      methods: [GET, PUT]
      headers: [X-Request-Id]
      credentials: true`

func staticTarget(name, url string, lb string, instances map[string]string) string {
	ids := make([]string, 0, len(instances))
	for id := range instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    discover:\n      static:\n        instances:\n", name, url)
	for _, id := range ids {
		fmt.Fprintf(&b, "          - {id: %s, addr: %s}\n", id, instances[id])
	}
	fmt.Fprintf(&b, "    direct: {scheme: http}\n    lb: %s", lb)
	b.WriteString(testPolicyYAML + "\n")
	return b.String()
}

type findingKey struct {
	Target, Kind, Instances string
}

func runJSON(t *testing.T, args ...string) (*diff.Report, int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(context.Background(), iostreams{out: &out, errOut: &errOut, in: strings.NewReader("")}, args)
	var rep diff.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("corsaudit %v: exit %d, output is not JSON: %v\nstdout: %s\nstderr: %s", args, code, err, out.String(), errOut.String())
	}
	return &rep, code, errOut.String()
}

// TestAuditStaticFleet is the end-to-end check of issue 3: a drifted
// minority, an exact 2-2 split and an LB with a backend outside the
// discovered fleet yield exactly the expected kinds and instances.
func TestAuditStaticFleet(t *testing.T) {
	f := newFleet(t)
	drift := map[string]string{}
	for i := 1; i <= 5; i++ {
		b := currentCORS
		if i == 5 {
			b = olderCORS
		}
		drift[fmt.Sprintf("d%d", i)] = f.start(fmt.Sprintf("d%d", i), b)
	}
	split := map[string]string{}
	for i := 1; i <= 4; i++ {
		b := currentCORS
		if i > 2 {
			b = olderCORS
		}
		split[fmt.Sprintf("s%d", i)] = f.start(fmt.Sprintf("s%d", i), b)
	}
	mixed := map[string]string{}
	var backends []*url.URL
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("m%d", i)
		mixed[id] = f.start(id, currentCORS)
		backends = append(backends, &url.URL{Scheme: "http", Host: mixed[id]})
	}
	// A forgotten instance on the old config, still in the LB's rotation
	// but not in the discovered fleet.
	backends = append(backends, &url.URL{Scheme: "http", Host: f.start("old-1", olderCORS)})
	lb := httptest.NewServer(lab.RoundRobin(backends))
	defer lb.Close()

	cfg := "targets:\n" +
		staticTarget("drift", "http://api.example.com/v1/cart", "{disabled: true}", drift) +
		staticTarget("split", "http://api.example.com/v1/cart", "{disabled: true}", split) +
		staticTarget("mixed", lb.URL+"/v1/cart", "{samples: 40, instance_header: X-Instance-Id}", mixed)
	path := writeConfig(t, cfg)
	rep, code, stderr := runJSON(t, "audit", "--config", path, "--format", "json")
	if code != exitFindings {
		t.Errorf("exit code = %d, want %d; stderr:\n%s", code, exitFindings, stderr)
	}
	got := map[findingKey]int{}
	for _, fd := range rep.Findings {
		got[findingKey{fd.Target, string(fd.Kind), strings.Join(fd.Instances, ",")}]++
		if fd.Reproduce == "" || !strings.HasPrefix(fd.Reproduce, "curl ") {
			t.Errorf("finding %s/%s has no curl reproduction: %q", fd.Target, fd.Kind, fd.Reproduce)
		}
		if fd.Probe == nil {
			t.Errorf("finding %s/%s names no probe", fd.Target, fd.Kind)
		}
	}
	want := map[findingKey]int{
		// d5 runs the older config: it blocks PUT (with and without
		// X-Request-Id) and X-Request-Id on GET.
		{"drift", "verdict-drift", "d5"}: 1,
		// Two instances on each config: the same three probes have no
		// majority (a warning: the policy decides), and the two on the
		// older config contradict the policy, which allows those probes.
		{"split", "split", "s1,s2,s3,s4"}:      1,
		{"split", "policy-violation", "s3,s4"}: 1,
		// Direct, m1-m3 agree; through the LB, a quarter of the requests
		// land on old-1, which is not in the discovered fleet.
		{"mixed", "lb-mismatch", "lb,old-1"}: 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings (target, kind, instances) = %v\nwant %v", got, want)
	}
	for _, fd := range rep.Findings {
		if fd.Kind == diff.KindLBMismatch && (fd.Share < 0.1 || fd.Share > 0.5) {
			t.Errorf("lb-mismatch share = %.2f, want about 0.25 (one backend in four)", fd.Share)
		}
		if fd.Kind == diff.KindVerdictDrift && !strings.Contains(fd.Reproduce, "--connect-to") {
			t.Errorf("direct finding reproduce %q lacks --connect-to", fd.Reproduce)
		}
	}
	if len(rep.Targets) != 3 || len(rep.Targets[0].Instances) != 5 || rep.Targets[0].Instances[0].Addr == "" {
		t.Errorf("targets = %+v, want 3 targets with their instances and addresses", rep.Targets)
	}
	if rep.Summary.Findings != 4 || rep.Summary.Instances != 12 {
		t.Errorf("summary = %+v", rep.Summary)
	}
}
