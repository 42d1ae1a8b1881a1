package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/testenv"
)

// TestLabFindings audits every lab scenario behind the real nginx or haproxy
// with `corsaudit audit --config` and asserts the exact finding kinds: each
// pitfall yields its finding, the clean scenarios none.
func TestLabFindings(t *testing.T) {
	for _, sc := range lab.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			testenv.LookTool(t, string(sc.Proxy)+" lab", string(sc.Proxy))
			ctx, cancel := context.WithTimeout(context.Background(), lab.StartTimeout)
			defer cancel()
			dir := t.TempDir()
			l, err := lab.Start(ctx, sc, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := l.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}()
			path := filepath.Join(dir, "corsaudit.yaml")
			cfg, err := l.ConfigYAML()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			code := execute(context.Background(), iostreams{out: &out, errOut: &errOut},
				[]string{"audit", "--config", path, "--format", "json", "--fail-on", "never"})
			if code != exitClean {
				t.Fatalf("audit exit code %d, want 0 with --fail-on never; stderr:\n%s", code, errOut.String())
			}
			var rep struct {
				Findings []struct {
					Kind      string   `json:"kind"`
					Message   string   `json:"message"`
					Instances []string `json:"instances"`
					Explains  []string `json:"explains"`
				} `json:"findings"`
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("audit output is not JSON: %v\n%s", err, out.String())
			}
			kinds := map[string]bool{}
			var explains []string
			for _, f := range rep.Findings {
				kinds[f.Kind] = true
				if len(f.Explains) > 1 {
					explains = append(explains, f.Explains...)
				}
			}
			sort.Strings(explains)
			if !reflect.DeepEqual(explains, sc.Explains) {
				t.Errorf("the findings explain %q, want %q\n%s", explains, sc.Explains, out.String())
			}
			got := []string{}
			for k := range kinds {
				got = append(got, k)
			}
			sort.Strings(got)
			want := append([]string{}, sc.Findings...)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("finding kinds %q, want %q\n%s", got, want, out.String())
			}
			// One finding per cause: each scenario is built with one
			// fault, so each kind it shows is one finding.
			if len(rep.Findings) != len(want) {
				var all []string
				for _, f := range rep.Findings {
					all = append(all, f.Kind+" "+strings.Join(f.Instances, ",")+": "+f.Message)
				}
				t.Errorf("%d findings %q, want one per kind %q", len(rep.Findings), all, want)
			}
			for _, in := range l.Instances {
				st := in.Server.Stats()
				if st.Cookies != 0 || st.Authorization != 0 || st.Unsafe != 0 {
					t.Errorf("%s received %d cookies, %d Authorization headers, %d unsafe requests from the audit; want none",
						in.ID, st.Cookies, st.Authorization, st.Unsafe)
				}
				if st.Preflights == 0 {
					t.Errorf("%s received no preflight: the audit did not probe it directly", in.ID)
				}
			}
		})
	}
}
