package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

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
		color              bool
	}{
		{"json report", "json", "report.json.golden", false},
		{"terminal table", "table", "report.table.golden", false},
		{"terminal table in colour", "table", "report.table-color.golden", true},
		{"junit xml", "junit", "report.junit.golden", false},
		{"sarif log", "sarif", "report.sarif.golden", false},
		{"html page", "html", "report.html.golden", false},
		{"prometheus metrics file", "metrics", "report.metrics.golden", false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			rd, err := LookupWith(tc.format, Options{Color: tc.color})
			if tc.format == "metrics" {
				rd, err = rendererFunc(func(w io.Writer, r *diff.Report) error {
					return Metrics(w, r, time.Date(2026, 3, 14, 9, 27, 0, 0, time.UTC))
				}), nil
			}
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := rd.Render(&buf, fixture()); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
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
	for i, f := range doc.Findings {
		var probes []json.RawMessage
		if err := json.Unmarshal(f["probes"], &probes); err != nil {
			t.Errorf("finding %d: probes is not an array: %s (%v)", i, f["probes"], err)
		}
		if _, ok := f["probe"]; ok && (len(probes) == 0 || compact(t, probes[0]) != compact(t, f["probe"])) {
			t.Errorf("finding %d: probe %s is not the first of probes", i, f["probe"])
		}
	}
	// The verdict-drift finding is one cause over three probes on two
	// paths, with what it explains, its share of load balancer requests,
	// and how its answer differs, header by header.
	var difference []struct {
		Step, Header string
		Missing      []string
	}
	if err := json.Unmarshal(doc.Findings[0]["difference"], &difference); err != nil || len(difference) != 2 ||
		difference[0].Header != "Access-Control-Allow-Methods" || strings.Join(difference[0].Missing, ",") != "DELETE,PUT" {
		t.Errorf("verdict-drift difference %s (%v)", doc.Findings[0]["difference"], err)
	}
	for key, want := range map[string]string{
		"paths":    `["/v1/cart","/v1/items"]`,
		"explains": `["verdict-drift","lb-mismatch"]`,
		"share":    `0.4`,
		"path":     `"/v1/cart"`,
	} {
		if got := compact(t, doc.Findings[0][key]); got != want {
			t.Errorf("verdict-drift %s = %s, want %s", key, got, want)
		}
	}
	var probes []struct{ ID, Path string }
	if err := json.Unmarshal(doc.Findings[0]["probes"], &probes); err != nil || fmt.Sprint(probes) != "[{p2 /v1/cart} {p5 /v1/cart} {p6 /v1/items}]" {
		t.Errorf("verdict-drift probes %s, want each with its path (%v)", doc.Findings[0]["probes"], err)
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
	for _, key := range []string{"kind", "severity", "target", "instances", "probe", "probes", "paths", "explains", "evidence", "difference", "expected", "observed", "message", "reproduce"} {
		if _, ok := doc.Findings[0][key]; !ok {
			t.Errorf("finding lacks %q: %s", key, out)
		}
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(doc.Findings[0]["probe"], &probe); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"origin", "method", "headers", "credentials", "path"} {
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

func compact(t *testing.T, m json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.String()
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
	if !strings.HasPrefix(out, "FAIL: ") {
		t.Errorf("the table does not open with the verdict:\n%s", out)
	}
	for _, tc := range []struct{ desc, want string }{
		{"verdict sentence first", "FAIL: 2 instances of 5 block PUT, DELETE from https://app.example.com; " +
			"the load balancer redirects preflights; i-0c9 is unreachable; and 1 more\n"},
		{"target header with probes per kind", "api  https://api.example.com/v1/cart  (6 instances, 5 of 6 probed reachable; 6 probes: 4 policy, 2 adversarial)"},
		{"finding line", "error    verdict-drift"},
		{"what the cause explains", "           explains: verdict-drift, lb-mismatch\n"},
		{"every probe of a finding, with its path", "           probes:   p2: PUT /v1/cart from https://app.example.com with Content-Type: application/json, X-Request-Id: 1, credentials\n" +
			"                     p5: DELETE /v1/cart from https://app.example.com, credentials\n" +
			"                     p6: PUT /v1/items from https://app.example.com, credentials\n"},
		{"each set of instances with its probes and its curl line", "           on s-blue-1: p2, p3\n" +
			"             $ curl -sS -o /dev/null -D - -X GET https://static.example.com/fonts/inter.woff2 --connect-to static.example.com:443:10.0.3.21:80 -H 'Origin: https://evil.example'\n" +
			"           on s-green-1: p3\n" +
			"             $ curl -sS -o /dev/null -D - -X OPTIONS https://static.example.com/fonts/inter.woff2 --connect-to static.example.com:443:10.0.3.22:80"},
		{"through the load balancer", "           through the load balancer: p6\n             $ curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/v1/items -H"},
		{"only the headers that differ, tokens marked", "           differs:  preflight Access-Control-Allow-Methods: -DELETE -PUT\n" +
			"                     preflight Access-Control-Max-Age: -600 +60\n"},
		{"share", "[50% of load balancer requests]"},
		{"reproduce indented", "           $ curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/v1/cart --connect-to api.example.com:443:10.0.2.11:8443"},
		{"summary", "summary: 2 targets, 9 instances (8 probed, 1 unreachable), 9 probes, 212 requests; 7 findings (4 error, 2 warning, 1 info)"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if !strings.Contains(out, tc.want) {
				t.Errorf("table lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestTableLegend: short header names in expected and observed answers
// come with a one-line legend, and only then.
func TestTableLegend(t *testing.T) {
	short := fixture()
	short.Findings[1].Observed = "blocked; preflight: 204 ACAO=https://app.example.com ACAM=GET"
	for _, tc := range []struct {
		desc string
		r    *diff.Report
		want bool
	}{
		{"short names", short, true},
		{"full names only", fixture(), false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			out := string(render(t, "table", tc.r))
			if got := strings.Contains(out, "\nlegend: ACAO Access-Control-Allow-Origin, ACAC -Allow-Credentials"); got != tc.want {
				t.Errorf("legend %v, want %v:\n%s", got, tc.want, out)
			}
		})
	}
}

// TestPartialRunSaysSo: a run stopped by its deadline or an interrupt with
// requests in flight never reads as "no findings" in any format, and
// counts the instances whose requests were not answered before it stopped
// (they are not unreachable, nor "nothing sent").
func TestPartialRunSaysSo(t *testing.T) {
	r := &diff.Report{Tool: "corsaudit", Incomplete: "the deadline (1s) passed before the audit finished: the report is partial",
		Targets: []diff.TargetReport{{Name: "api", URL: "https://api.example.com/", Instances: []diff.InstanceInfo{
			{ID: "up", Reachable: true},
			{ID: "hang", Unanswered: 3, NotRun: []diff.NotRun{{Reason: "not answered before the run stopped: its deadline passed", Probes: []string{"p1", "p2", "p3"}}}},
		}}}}
	r.Summarize()
	if r.Summary.Unanswered != 1 || r.Summary.Unreachable != 0 {
		t.Errorf("summary: %d unanswered, %d unreachable; want 1 and 0", r.Summary.Unanswered, r.Summary.Unreachable)
	}
	line := SummaryLine(r)
	if want := "(2 probed, 0 unreachable, 1 not answered before the run stopped)"; !strings.Contains(line, want) || strings.Contains(line, "no findings") {
		t.Errorf("summary line %q: want %q and never \"no findings\"", line, want)
	}
	for _, format := range []string{"table", "html"} {
		out := string(render(t, format, r))
		if strings.Contains(strings.ToLower(out), "no findings") {
			t.Errorf("%s says \"no findings\" about a partial run:\n%s", format, out)
		}
		if !strings.Contains(out, "before the run stopped") {
			t.Errorf("%s does not say the run stopped:\n%s", format, out)
		}
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

// TestTableColour: colour only on a terminal without NO_COLOR; the colours
// never let a server-supplied escape through.
func TestTableColour(t *testing.T) {
	hostile := fixture()
	hostile.Findings[0].Difference[0].Missing[0] = "\x1b]0;owned\x07PUT"
	for _, tc := range []struct {
		desc       string
		terminal   bool
		noColor    string
		wantEscape bool
	}{
		{"terminal", true, "", true},
		{"terminal with NO_COLOR=1", true, "1", false},
		{"not a terminal (pipe, file)", false, "", false},
		{"not a terminal with NO_COLOR=1", false, "1", false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "NO_COLOR" {
					return tc.noColor
				}
				return ""
			}
			rd, err := LookupWith("table", Options{Color: UseColor(tc.terminal, getenv)})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := rd.Render(&buf, hostile); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if got := strings.Contains(out, "\x1b"); got != tc.wantEscape {
				t.Errorf("escape codes present %v, want %v:\n%q", got, tc.wantEscape, out)
			}
			// Only the renderer's own SGR sequences may remain.
			for _, sgr := range []string{sgrReset, sgrRed, sgrBold, sgrGreen, sgrYellow, sgrBlue, sgrDim} {
				out = strings.ReplaceAll(out, sgr, "")
			}
			if strings.Contains(out, "\x1b") {
				t.Errorf("an escape from the report's values reached the terminal:\n%q", out)
			}
			if !strings.Contains(out, `-\x1b]0;owned\x07PUT`) {
				t.Errorf("the hostile token is not shown escaped")
			}
		})
	}
}

func TestHeadline(t *testing.T) {
	warnOnly := fixture()
	warnOnly.Findings = []diff.Finding{warnOnly.Findings[3]}
	for _, tc := range []struct {
		desc string
		r    *diff.Report
		want string
	}{
		{"errors: the worst causes, for users", fixture(), "FAIL: 2 instances of 5 block PUT, DELETE from https://app.example.com; the load balancer redirects preflights; i-0c9 is unreachable; and 1 more"},
		{"warnings only", warnOnly, "WARN: 1 instance of 5 sends other CORS headers for PUT from https://app.example.com"},
		{"nothing found", &diff.Report{}, "PASS: no findings"},
		{"partial run: never \"no findings\" nor PASS", &diff.Report{Incomplete: "deadline"}, "INCOMPLETE: nothing found before the run stopped"},
		{"partial run with info findings only", &diff.Report{Incomplete: "deadline", Findings: []diff.Finding{{Kind: diff.KindSkipped, Severity: diff.SeverityInfo}}},
			"INCOMPLETE: no warning or error (incomplete run)"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			word, sentence := headline(tc.r)
			if got := word + ": " + sentence; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
