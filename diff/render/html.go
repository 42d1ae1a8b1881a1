package render

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/escape"
)

// HTML writes one self-contained HTML page (inline CSS and JS, no network
// access, readable from file://): per target a matrix of instances x probes
// (columns headed by method and origin) whose colour says whether the
// answer is as expected (the policy's or the majority's verdict), not
// whether the browser allows it, with drift outlined; the adversarial
// probes in their own collapsed matrix; a legend for every symbol; then the
// findings, one block per cause, with the kinds it explains, its probes,
// header differences, curl reproductions (per set of instances when they
// show it on different probes) and a copy button. Above 200 instances the findings come first, instances
// whose rows are identical are one row saying how many they are (drifting
// rows first), and a finding names its first 50 instances: the page of a
// 100,000-instance fleet is a few rows. Filters by severity, kind, group,
// text and "drift only" (on by default above 200 instances) can be preset
// in the URL fragment:
// report.html#severity=error&group=green&drift=1&adversarial=open. Every value from the report goes through
// html/template's contextual escaping, and a Content-Security-Policy allows
// only the page's own script (by hash): a hostile header value or instance
// id is shown as text and can never run.
func HTML(w io.Writer, r *diff.Report) error {
	// Header values are bytes as received: the page stays UTF-8.
	if err := htmlTemplate.Execute(escape.ValidUTF8(w), newHTMLPage(r)); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

type htmlPage struct {
	Title      string
	Meta       string
	Incomplete string
	Summary    string
	Verdict    string
	CSP        string
	Script     template.JS
	Severities []string
	Kinds      []string
	Groups     []string
	Targets    []htmlTarget
	// DriftOnly opens the page on the drift-only view (large fleets).
	DriftOnly bool
}

type htmlTarget struct {
	Name     string
	URL      string
	Matrices []htmlMatrix
	Findings []htmlFinding
	// NoneFound is what the page says when the target has no findings.
	NoneFound string
}

type htmlFinding struct {
	diff.Finding
	// Named is the instances the finding names: all of them, or the
	// first few of a long list, More then saying how many it stands for.
	Named      []string
	More       string
	Title      string
	Groups     string // space-separated, for the group filter
	Probes     []string
	Share      string
	Difference []htmlDifference
	// Explains is the kinds the cause explains, when several.
	Explains string
	// Evidence is, when the instances show the finding on different
	// probes (or through the load balancer), each set with its probes
	// and curl command.
	Evidence []htmlEvidence
}

// htmlEvidence is one set of instances of a finding, its probes and its
// curl command.
type htmlEvidence struct {
	Who, Probes, Reproduce string
}

// htmlDifference is one header difference: its name, then the missing
// (class "minus") and extra ("plus") tokens.
type htmlDifference struct {
	Header string
	Tokens []htmlToken
}

type htmlToken struct{ Class, Text string }

// namedInFinding is how many instances a finding names on the page; a
// longer list says how many more (the JSON report has them all).
const namedInFinding = 50

// thousands writes n with thousands separators: 89,997.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for k := len(s) - 3; k > 0 && s[k-1] != '-'; k -= 3 {
		s = s[:k] + "," + s[k:]
	}
	return s
}

// driftOnlyAbove is the number of instances above which the page opens on
// the drift-only view.
const driftOnlyAbove = 200

// pageScript runs the filters and copy buttons. It reads values only with
// textContent and dataset and never writes HTML. The CSP names its hash.
const pageScript = `(function () {
  var d = document;
  function all(s, root) { return Array.prototype.slice.call((root || d).querySelectorAll(s)); }
  var sev = d.getElementById('f-severity'), kind = d.getElementById('f-kind'),
      grp = d.getElementById('f-group'), txt = d.getElementById('f-text'), drift = d.getElementById('f-drift');
  function apply() {
    var s = sev.value, k = kind.value, g = grp.value, t = txt.value.toLowerCase(), dr = drift.checked;
    all('.finding').forEach(function (el) {
      el.hidden = !((!s || el.dataset.severity === s) && (!k || el.dataset.kind === k) &&
        (!g || (' ' + el.dataset.groups + ' ').indexOf(' ' + g + ' ') >= 0) &&
        (!t || el.textContent.toLowerCase().indexOf(t) >= 0));
    });
    all('tr.inst').forEach(function (el) {
      el.hidden = (!!g && !el.classList.contains('lb') && el.dataset.group !== g) ||
        (dr && !el.classList.contains('drifting'));
    });
    all('section.target').forEach(function (sec) {
      sec.querySelector('.shown').textContent = sec.querySelectorAll('.finding:not([hidden])').length;
    });
  }
  // Filters can be preset in the URL:
  // report.html#severity=error&group=green&drift=1&adversarial=open
  var preset = new URLSearchParams(window.location.hash.slice(1));
  [['severity', sev], ['kind', kind], ['group', grp], ['text', txt]].forEach(function (p) {
    var v = preset.get(p[0]);
    if (v !== null) { p[1].value = v; }
  });
  if (preset.get('drift') !== null) { drift.checked = preset.get('drift') === '1'; }
  if (preset.get('adversarial') === 'open') {
    all('details.adversarial').forEach(function (el) { el.open = true; });
  }
  [sev, kind, grp, drift].forEach(function (e) { e.addEventListener('change', apply); });
  txt.addEventListener('input', apply);
  all('button.copy').forEach(function (b) {
    b.addEventListener('click', function () {
      var pre = b.parentNode.querySelector('pre');
      function select() {
        var r = d.createRange(); r.selectNodeContents(pre);
        var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
        b.textContent = 'selected: press Ctrl+C';
      }
      if (navigator.clipboard) {
        navigator.clipboard.writeText(pre.textContent).then(function () { b.textContent = 'copied'; }, select);
      } else { select(); }
    });
  });
  apply();
  d.documentElement.setAttribute('data-ready', '1');
})();`

func newHTMLPage(r *diff.Report) htmlPage {
	sum := sha256.Sum256([]byte(pageScript))
	p := htmlPage{
		Title:      "corsaudit report",
		Incomplete: r.Incomplete,
		Summary:    strings.TrimPrefix(summaryLine(r), "summary: "),
		Verdict:    verdictLine(r),
		CSP: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" +
			base64.StdEncoding.EncodeToString(sum[:]) + "'",
		Script:     template.JS(pageScript),
		Severities: []string{string(diff.SeverityError), string(diff.SeverityWarning), string(diff.SeverityInfo)},
	}
	meta := []string{orDefault(r.Tool, "corsaudit") + " " + r.Version}
	if r.Browser != "" {
		meta = append(meta, r.Browser+" rules")
	}
	if !r.StartedAt.IsZero() {
		meta = append(meta, "started "+r.StartedAt.UTC().Format("2006-01-02 15:04:05 MST"))
	}
	meta = append(meta, "took "+time.Duration(r.Duration*float64(time.Second)).Round(time.Millisecond).String())
	p.Meta = strings.Join(meta, " · ")
	for _, k := range sortedKinds(r.Findings) {
		p.Kinds = append(p.Kinds, string(k))
	}
	groups := map[string]bool{}
	instances := 0
	for _, t := range r.Targets {
		instances += len(t.Instances)
	}
	// A large fleet: the page opens on the findings and the drifting rows,
	// and instances answering alike are one row.
	large := instances > driftOnlyAbove
	byTarget, order := findingsByTarget(r)
	for _, name := range order {
		none := noneFound(r)
		ht := htmlTarget{Name: name, NoneFound: strings.ToUpper(none[:1]) + none[1:] + "."}
		if t := targetByName(r, name); t != nil {
			ht.URL = t.URL
			ht.Matrices = htmlMatrices(t, groups, large)
		}
		for _, f := range byTarget[name] {
			hf := htmlFinding{Finding: f, Named: f.Instances, Title: f.Kind.Title(), Groups: strings.Join(f.Groups, " ")}
			if len(f.Instances) > namedInFinding {
				hf.Named = f.Instances[:namedInFinding]
				hf.More = fmt.Sprintf("and %s more (%s instances)", thousands(len(f.Instances)-namedInFinding), thousands(len(f.Instances)))
			}
			for _, pr := range f.AllProbes() {
				hf.Probes = append(hf.Probes, probeString(pr))
			}
			for _, d := range f.Difference {
				hd := htmlDifference{Header: d.Step + " " + d.Header}
				for _, m := range d.Missing {
					hd.Tokens = append(hd.Tokens, htmlToken{"minus", "-" + m})
				}
				for _, x := range d.Extra {
					hd.Tokens = append(hd.Tokens, htmlToken{"plus", "+" + x})
				}
				if len(hd.Tokens) == 0 {
					hd.Tokens = []htmlToken{{"minus", "-" + orDash(d.Expected)}, {"plus", "+" + orDash(d.Observed)}}
				}
				hf.Difference = append(hf.Difference, hd)
			}
			if f.Share > 0 {
				hf.Share = fmt.Sprintf("%.0f%%", f.Share*100)
			}
			if len(f.Explains) > 1 {
				hf.Explains = kindWords(f.Explains)
			}
			if len(f.Evidence) > 1 {
				for _, e := range f.Evidence {
					hf.Evidence = append(hf.Evidence, htmlEvidence{Who: evidenceWho(e), Probes: strings.Join(e.Probes, ", "), Reproduce: e.Reproduce})
				}
			}
			ht.Findings = append(ht.Findings, hf)
		}
		p.Targets = append(p.Targets, ht)
	}
	for g := range groups {
		p.Groups = append(p.Groups, g)
	}
	sort.Strings(p.Groups)
	p.DriftOnly = large
	return p
}
