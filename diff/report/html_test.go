package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
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

	"github.com/corsaudit/corsaudit/internal/testenv"
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
	for _, want := range []string{`class="cell blocked drift"`, `class="cell error"`, `class="cell allowed"`, `<option>green</option>`, `<option>verdict-drift</option>`, `>copy</button>`} {
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

	shot := filepath.Join(dir, "shot.png")
	run("", "--screenshot="+shot)
	if keep := os.Getenv("CORSAUDIT_KEEP_SCREENSHOT"); keep != "" {
		if b, err := os.ReadFile(shot); err == nil {
			os.WriteFile(keep, b, 0o644)
		}
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
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
		{"matrix drawn", `class="cell blocked drift"`, true},
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
		{"warnings only", "#severity=warning", 5, 0},
		{"green group", "#group=green", 2, 4},
		{"text and group", "#text=refused&group=blue", 7, 5},
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
