package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the renderers' output")

func render(t *testing.T, format string, r *diff.Report) []byte {
	t.Helper()
	rd, err := Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rd.Render(&buf, r); err != nil {
		t.Fatalf("render %s: %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		desc, format, file string
	}{
		{"json report", "json", "report.json.golden"},
		{"terminal table", "table", "report.table.golden"},
		{"junit xml", "junit", "report.junit.golden"},
		{"sarif log", "sarif", "report.sarif.golden"},
		{"html page", "html", "report.html.golden"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := render(t, tc.format, fixture())
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s output differs from %s (run with -update and review the diff)\n%s", tc.format, path, firstDiff(got, want))
			}
		})
	}
}

// firstDiff shows the first differing line.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		desc, name string
		ok         bool
	}{
		{"json", "json", true},
		{"table", "table", true},
		{"sarif", "sarif", true},
		{"junit", "junit", true},
		{"html", "html", true},
		{"unknown", "xml", false},
		{"case matters", "JSON", false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Lookup(tc.name)
			if (err == nil) != tc.ok {
				t.Fatalf("Lookup(%q) error = %v, want ok=%v", tc.name, err, tc.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "report: unknown format") {
				t.Errorf("error %q lacks its subject", err)
			}
		})
	}
}

func TestJSONFields(t *testing.T) {
	out := render(t, "json", fixture())
	var doc struct {
		Targets []struct {
			Name      *string `json:"name"`
			URL       *string `json:"url"`
			Instances []struct {
				ID    *string `json:"id"`
				Addr  *string `json:"addr"`
				Group *string `json:"group"`
			} `json:"instances"`
		} `json:"targets"`
		Findings []map[string]json.RawMessage `json:"findings"`
		Summary  map[string]json.RawMessage   `json:"summary"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Targets) != 2 || len(doc.Findings) != 7 {
		t.Fatalf("got %d targets and %d findings, want 2 and 7", len(doc.Targets), len(doc.Findings))
	}
	for _, tg := range doc.Targets {
		if tg.Name == nil || tg.URL == nil || len(tg.Instances) == 0 {
			t.Errorf("target %+v lacks name, url or instances", tg)
		}
		for _, in := range tg.Instances[:2] {
			if in.ID == nil || in.Addr == nil || in.Group == nil {
				t.Errorf("instance %+v lacks id, addr or group", in)
			}
		}
	}
	for _, key := range []string{"kind", "severity", "target", "instances", "probe", "expected", "observed", "message", "reproduce"} {
		if _, ok := doc.Findings[2][key]; !ok {
			t.Errorf("finding lacks %q: %s", key, out)
		}
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(doc.Findings[2]["probe"], &probe); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"origin", "method", "headers", "credentials"} {
		if _, ok := probe[key]; !ok {
			t.Errorf("probe lacks %q", key)
		}
	}
	for _, key := range []string{"findings", "instances", "unreachable", "by_kind", "by_severity"} {
		if _, ok := doc.Summary[key]; !ok {
			t.Errorf("summary lacks %q", key)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	want := fixture()
	var got diff.Report
	if err := json.Unmarshal(render(t, "json", want), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, normalize(want)) {
		t.Errorf("JSON round trip changed the report:\n got %+v\nwant %+v", got, *want)
	}
}

func TestJSONEmptyListsAreArrays(t *testing.T) {
	r := &diff.Report{Tool: "corsaudit", Targets: []diff.TargetReport{{Name: "t"}},
		Findings: []diff.Finding{{Kind: diff.KindSplit, Probe: &diff.ProbeRef{ID: "p1"}}}}
	out := string(render(t, "json", r))
	for _, want := range []string{`"instances": []`, `"probes": []`, `"headers": []`, `"by_kind": {}`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "null") {
		t.Errorf("output has a null:\n%s", out)
	}
}

func TestTable(t *testing.T) {
	out := string(render(t, "table", fixture()))
	for _, tc := range []struct{ desc, want string }{
		{"target header", "api  https://api.example.com/v1/cart  (6 instances, 5 of 6 probed reachable, 4 probes)"},
		{"finding line", "error    verdict-drift"},
		{"share", "[50% of load balancer requests]"},
		{"reproduce indented", "           $ curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/v1/cart --connect-to api.example.com:443:10.0.2.11:8443"},
		{"summary", "summary: 2 targets, 9 instances (8 probed, 1 unreachable), 6 probes, 212 requests; 7 findings (4 error, 2 warning, 1 info)"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if !strings.Contains(out, tc.want) {
				t.Errorf("table lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ desc, in, want string }{
		{"plain", "ACAO=https://a.example", "ACAO=https://a.example"},
		{"unicode kept", "café ✓", "café ✓"},
		{"ansi escape", "\x1b[2J\x1b]0;owned\x07x", `\x1b[2J\x1b]0;owned\x07x`},
		{"newline", "a\r\nb", `a\x0d\x0ab`},
		{"c1 control", "a\u009bb", `a\x9bb`},
		{"invalid utf-8", "a\xffb", `a\xffb`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := clean(tc.in); got != tc.want {
				t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTableNoFindings(t *testing.T) {
	r := &diff.Report{Tool: "corsaudit", Version: "0.4.0", Targets: []diff.TargetReport{{Name: "api", URL: "https://api.example.com/"}}}
	r.Summarize()
	out := string(render(t, "table", r))
	for _, want := range []string{"  no findings\n", "; no findings\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
