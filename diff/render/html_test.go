package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

func TestHTMLEscapesServerValues(t *testing.T) {
	out := string(render(t, "html", fixture()))
	for _, tc := range []struct {
		desc, absent string
	}{
		{"hostile header value", "<script>document"},
		{"hostile instance id in text", `<img src=x`},
		{"hostile instance id breaking out of an attribute", `"><img`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if strings.Contains(out, tc.absent) {
				t.Errorf("page contains unescaped %q", tc.absent)
			}
		})
	}
	if n := strings.Count(out, "<script"); n != 1 {
		t.Errorf("page has %d <script elements, want only its own", n)
	}
	if !strings.Contains(out, "&lt;script&gt;document.documentElement.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;);alert(1)&lt;/script&gt;") {
		t.Error("hostile header value is not shown as escaped text")
	}
	// The CSP allows exactly the page's own script, by hash.
	m := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no script")
	}
	sum := sha256.Sum256([]byte(m[1]))
	csp := regexp.MustCompile(`http-equiv="Content-Security-Policy" content="([^"]*)"`).FindStringSubmatch(out)
	if csp == nil {
		t.Fatal("no Content-Security-Policy")
	}
	if want := "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.HasSuffix(html.UnescapeString(csp[1]), want) {
		t.Errorf("CSP %q does not end with the script's hash %s", html.UnescapeString(csp[1]), want)
	}
	for _, want := range []string{`class="cell unexpected drift"`, `class="cell error"`, `class="cell ok-allowed"`, `class="cell ok-blocked"`,
		`<details class="adversarial"><summary>2 adversarial probes`, `<span class="origin">app.example.com</span>`,
		`<span class="minus">-DELETE</span>`, `Symbols: ✓`, `<option>green</option>`, `<option>verdict-drift</option>`, `>copy</button>`} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestHTMLInChromium opens the page in headless Chromium from file://,
// screenshots it, and checks the rendered DOM: the page's own script ran
// (data-ready), the hostile values are text, and no script from the data
// ran (no data-pwned attribute, title unchanged).
func TestHTMLInChromium(t *testing.T) {
	chromium := testenv.LookTool(t, "html report test", "chromium", "chromium-browser", "google-chrome")
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := WriteFileAtomic(page, func(w io.Writer) error { return HTML(w, fixture()) }); err != nil {
		t.Fatal(err)
	}
	run := func(fragment string, extra ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-dev-shm-usage", "--user-data-dir=" + filepath.Join(dir, "profile"),
			"--window-size=1400,1000"}, extra...)
		args = append(args, "file://"+page+fragment)
		cmd := exec.CommandContext(ctx, chromium, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
		}
		return stdout.Bytes()
	}

	screenshot := func(fragment string) image.Image {
		t.Helper()
		shot := filepath.Join(dir, "shot.png")
		run(fragment, "--screenshot="+shot)
		if keep := os.Getenv("CORSAUDIT_KEEP_SCREENSHOT"); keep != "" && fragment != "" {
			if b, err := os.ReadFile(shot); err == nil {
				os.WriteFile(keep, b, 0o644)
			}
		}
		f, err := os.Open(shot)
		if err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		return img
	}
	// The adversarial section opened: its correctly blocked probes are
	// neutral grey (not red), drift is outlined. The legend shows each
	// colour once; the page with an empty report gives the legend's share.
	img := screenshot("#adversarial=open")
	if err := WriteFileAtomic(page, func(w io.Writer) error { return HTML(w, &diff.Report{Tool: "corsaudit"}) }); err != nil {
		t.Fatal(err)
	}
	legendOnly := screenshot("")
	for _, tc := range []struct {
		desc   string
		colour [3]uint8
		min    int
	}{
		{"blocked as expected (neutral)", [3]uint8{0xe4, 0xe7, 0xee}, 8 * 1000},
		{"drift outline", [3]uint8{0x6f, 0x2d, 0xbd}, 4 * 200},
	} {
		got, legend := countColour(img, tc.colour), countColour(legendOnly, tc.colour)
		if got-legend < tc.min {
			t.Errorf("%s: %d pixels in the matrices (%d in all, %d in the legend), want at least %d", tc.desc, got-legend, got, legend, tc.min)
		}
	}
	if err := WriteFileAtomic(page, func(w io.Writer) error { return HTML(w, fixture()) }); err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 700 {
		t.Errorf("screenshot is %v, want about 1400x1000", b)
	}
	if n := distinctColours(img, 64); n < 8 {
		t.Errorf("screenshot has %d distinct colours: blank page?", n)
	}

	dom := string(run("", "--dump-dom", "--virtual-time-budget=3000"))
	for _, tc := range []struct {
		desc, want string
		present    bool
	}{
		{"page script ran under the CSP", `data-ready="1"`, true},
		{"hostile header shown as text", "&lt;script&gt;document.documentElement.setAttribute('data-pwned','1');alert(1)&lt;/script&gt;", true},
		{"hostile id shown as text", `i-0b3"&gt;&lt;img src=x onerror="document.title='pwned'"&gt;`, true},
		{"no script from data ran", "data-pwned", false},
		{"no element injected", "<img", false},
		{"title unchanged", "<title>corsaudit report</title>", true},
		{"matrix drawn", `class="cell unexpected drift"`, true},
		{"correctly blocked adversarial probes neutral", `class="cell ok-blocked" title="blocked, HTTP 200: origin-mismatch (as expected)"`, true},
		{"adversarial probes collapsed", `<details class="adversarial">`, true},
		{"nothing hidden without a filter", ` hidden=""`, false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			// data-pwned appears inside the escaped text; look for it as an attribute.
			got := strings.Contains(dom, tc.want)
			if tc.want == "data-pwned" {
				got = regexp.MustCompile(`<[^>]*\sdata-pwned=`).MatchString(dom)
			}
			if got != tc.present {
				t.Errorf("rendered DOM contains %q = %v, want %v", tc.want, got, tc.present)
			}
		})
	}

	// The filters, preset from the URL fragment, hide what does not match.
	for _, tc := range []struct {
		desc, fragment             string
		hiddenFindings, hiddenRows int
	}{
		// Rows are per matrix: api has its policy and adversarial matrices
		// (6 instances + the LB each), static too (3 instances each).
		{"warnings only", "#severity=warning", 5, 0},
		{"green group", "#group=green", 2, 8},
		{"text and group", "#text=refused&group=blue", 7, 10},
		// Rows with no drift, no unexpected answer and no failure: api
		// i-0a1..3 (policy), all but i-0c9 (adversarial), static's three
		// (policy), the lambda (adversarial; s-green-1 trusts p3's origin).
		{"drift only", "#drift=1", 0, 13},
	} {
		t.Run("filter "+tc.desc, func(t *testing.T) {
			dom := string(run(tc.fragment, "--dump-dom", "--virtual-time-budget=3000"))
			if !strings.Contains(dom, `data-ready="1"`) {
				t.Fatal("page script did not run")
			}
			findings := regexp.MustCompile(`<div class="finding [^"]*"[^>]*\shidden=`).FindAllString(dom, -1)
			rows := regexp.MustCompile(`<tr class="inst[^"]*"[^>]*\shidden=`).FindAllString(dom, -1)
			if len(findings) != tc.hiddenFindings || len(rows) != tc.hiddenRows {
				t.Errorf("%d findings and %d matrix rows hidden, want %d and %d", len(findings), len(rows), tc.hiddenFindings, tc.hiddenRows)
			}
		})
	}
}

// distinctColours counts the distinct colours among at most limit+1.
func distinctColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}] = true
			if len(seen) > limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// countColour counts the pixels of exactly one colour.
func countColour(img image.Image, c [3]uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c[0] && uint8(g>>8) == c[1] && uint8(bl>>8) == c[2] {
				n++
			}
		}
	}
	return n
}

// TestHTMLDriftOnlyDefault: the page opens on the drift-only view above
// 200 instances, and not below.
func TestHTMLDriftOnlyDefault(t *testing.T) {
	fleet := func(n int) *diff.Report {
		tr := diff.TargetReport{Name: "api", URL: "https://api.example.com/"}
		for i := 0; i < n; i++ {
			tr.Instances = append(tr.Instances, diff.InstanceInfo{ID: fmt.Sprintf("i-%d", i), Reachable: true})
		}
		return &diff.Report{Targets: []diff.TargetReport{tr}}
	}
	for _, tc := range []struct {
		desc      string
		instances int
		checked   bool
	}{
		{"200 instances", 200, false},
		{"201 instances", 201, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			out := string(render(t, "html", fleet(tc.instances)))
			if got := strings.Contains(out, `id="f-drift" type="checkbox" checked`); got != tc.checked {
				t.Errorf("drift only checked %v, want %v", got, tc.checked)
			}
		})
	}
}

// largeFleet is a report of n instances x 16 probes where every tenth
// instance (web-000010, web-000020...) blocks p2 and p3, as
// internal/testinfra/benchfleet's fleet does, with the verdict-drift finding.
func largeFleet(n int) *diff.Report {
	tr := diff.TargetReport{Name: "api", URL: "https://api.example.com/v1/cart", Cells: &diff.Cells{}}
	for p := range 16 {
		tr.Probes = append(tr.Probes, diff.ProbeRef{ID: fmt.Sprint("p", p+1), Origin: "https://app.example.com", Method: "PUT"})
	}
	var drifting []string
	for i := range n {
		id := fmt.Sprintf("web-%06d", i+1)
		tr.Instances = append(tr.Instances, diff.InstanceInfo{ID: id, Addr: fmt.Sprintf("127.0.%d.%d:28911", i/250, i%250), Group: "blue", Reachable: true})
		older := (i+1)%10 == 0
		if older {
			drifting = append(drifting, id)
		}
		for _, pr := range tr.Probes {
			c := diff.Cell{Instance: id, Probe: pr.ID, Outcome: diff.OutcomeAllowed, Status: 204}
			if older && (pr.ID == "p2" || pr.ID == "p3") {
				c.Outcome, c.Reason, c.Drift = diff.OutcomeBlocked, "method-not-allowed", true
			}
			tr.Cells.Add(c)
		}
	}
	r := &diff.Report{Tool: "corsaudit", Targets: []diff.TargetReport{tr}, Findings: []diff.Finding{{
		Kind: diff.KindVerdictDrift, Severity: diff.SeverityError, Target: "api", Instances: drifting, Groups: []string{"blue"},
		Probe: &tr.Probes[1], Probes: tr.Probes[1:3],
		Message: fmt.Sprintf("%d of %d instances block 2 requests where the majority allows them", len(drifting), n)}}}
	r.Summarize()
	return r
}

// TestHTMLLargeFleet: at 100,000 instances the page has a row per distinct
// answer, not per instance, the drifting row first, the findings before
// the matrix, and stays under 5 MB.
func TestHTMLLargeFleet(t *testing.T) {
	page := render(t, "html", largeFleet(100000))
	out := string(page)
	if len(page) > 5<<20 {
		t.Errorf("page is %d bytes, want at most 5 MiB", len(page))
	}
	rows := regexp.MustCompile(`<tr class="inst[^"]*"[^>]*><th class="inst">([^<]*)<span class="group">blue</span><small>([^<]*)</small>`).FindAllStringSubmatch(out, -1)
	want := [][2]string{
		{"web-000010, web-000020, web-000030 and 9,997 more ", "10,000 instances answering alike"},
		{"web-000001, web-000002, web-000003 and 89,997 more ", "90,000 instances answering alike"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d instance rows, want %d", len(rows), len(want))
	}
	for k, w := range want {
		if rows[k][1] != w[0] || rows[k][2] != w[1] {
			t.Errorf("row %d is %q (%q), want %q (%q)", k+1, rows[k][1], rows[k][2], w[0], w[1])
		}
	}
	if !strings.Contains(out, `<tr class="inst drifting" data-group="blue"><th class="inst">web-000010,`) {
		t.Error("the drifting row is not marked drifting")
	}
	findings, matrix := strings.Index(out, `<div class="finding error"`), strings.Index(out, `<table class="matrix">`)
	if findings < 0 || matrix < 0 || findings > matrix {
		t.Errorf("the finding is at %d, the matrix at %d: want the findings first", findings, matrix)
	}
	if !strings.Contains(out, "web-000500 and 9,950 more (10,000 instances) (blue)</span>") {
		t.Error("the finding does not name its first 50 instances and how many more")
	}
	if !strings.Contains(out, `id="f-drift" type="checkbox" checked`) {
		t.Error("the page does not open on the drift-only view")
	}
}
