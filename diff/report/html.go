package report

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
)

// HTML writes one self-contained HTML page (inline CSS and JS, no network
// access, readable from file://): per target a matrix of instances x probes
// coloured allowed / blocked / error with drift outlined, then the findings
// with their curl reproductions and a copy button, and filters by severity,
// kind, group and text (presettable in the URL fragment:
// report.html#severity=error&group=green). Every value from the report goes through
// html/template's contextual escaping, and a Content-Security-Policy allows
// only the page's own script (by hash): a hostile header value or instance
// id is shown as text and can never run.
func HTML(w io.Writer, r *diff.Report) error {
	if err := htmlTemplate.Execute(w, newHTMLPage(r)); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

type htmlPage struct {
	Title      string
	Meta       string
	Incomplete string
	Summary    string
	CSP        string
	Script     template.JS
	Severities []string
	Kinds      []string
	Groups     []string
	Targets    []htmlTarget
}

type htmlTarget struct {
	Name     string
	URL      string
	Probes   []htmlProbe
	Rows     []htmlRow
	Findings []htmlFinding
}

type htmlProbe struct {
	ID, Method, Origin, Title string
}

type htmlRow struct {
	ID, Addr, Group, Detail string
	LB, Unreachable         bool
	Cells                   []htmlCell
}

type htmlCell struct {
	Class, Symbol, Status, Title string
}

type htmlFinding struct {
	diff.Finding
	Title  string
	Groups string // space-separated, for the group filter
	Probe  string
	Share  string
}

// pageScript runs the filters and copy buttons. It reads values only with
// textContent and dataset and never writes HTML. The CSP names its hash.
const pageScript = `(function () {
  var d = document;
  function all(s, root) { return Array.prototype.slice.call((root || d).querySelectorAll(s)); }
  var sev = d.getElementById('f-severity'), kind = d.getElementById('f-kind'),
      grp = d.getElementById('f-group'), txt = d.getElementById('f-text');
  function apply() {
    var s = sev.value, k = kind.value, g = grp.value, t = txt.value.toLowerCase();
    all('.finding').forEach(function (el) {
      el.hidden = !((!s || el.dataset.severity === s) && (!k || el.dataset.kind === k) &&
        (!g || (' ' + el.dataset.groups + ' ').indexOf(' ' + g + ' ') >= 0) &&
        (!t || el.textContent.toLowerCase().indexOf(t) >= 0));
    });
    all('tr.inst').forEach(function (el) { el.hidden = !!g && !el.classList.contains('lb') && el.dataset.group !== g; });
    all('section.target').forEach(function (sec) {
      sec.querySelector('.shown').textContent = sec.querySelectorAll('.finding:not([hidden])').length;
    });
  }
  // Filters can be preset in the URL: report.html#severity=error&group=green
  var preset = new URLSearchParams(window.location.hash.slice(1));
  [['severity', sev], ['kind', kind], ['group', grp], ['text', txt]].forEach(function (p) {
    var v = preset.get(p[0]);
    if (v !== null) { p[1].value = v; }
  });
  [sev, kind, grp].forEach(function (e) { e.addEventListener('change', apply); });
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
	byTarget, order := findingsByTarget(r)
	for _, name := range order {
		ht := htmlTarget{Name: name}
		if t := targetByName(r, name); t != nil {
			ht.URL = t.URL
			cells := map[[2]string]diff.Cell{}
			for _, c := range t.Cells {
				cells[[2]string{c.Instance, c.Probe}] = c
			}
			for _, pr := range t.Probes {
				ht.Probes = append(ht.Probes, htmlProbe{ID: pr.ID, Method: pr.Method, Origin: pr.Origin, Title: probeString(pr)})
			}
			row := func(id string) []htmlCell {
				var out []htmlCell
				for _, pr := range t.Probes {
					c, ok := cells[[2]string{id, pr.ID}]
					out = append(out, htmlCellOf(c, ok))
				}
				return out
			}
			for _, in := range t.Instances {
				if in.Group != "" {
					groups[in.Group] = true
				}
				var detail []string
				for _, s := range []string{in.Zone, in.Health} {
					if s != "" {
						detail = append(detail, s)
					}
				}
				if in.Skip != "" {
					detail = append(detail, "not probed: "+in.Skip)
				}
				for _, nr := range in.NotRun {
					detail = append(detail, "not run: "+strings.Join(nr.Probes, " ")+" ("+nr.Reason+")")
				}
				ht.Rows = append(ht.Rows, htmlRow{ID: in.ID, Addr: in.Addr, Group: in.Group,
					Detail: strings.Join(detail, ", "), Unreachable: in.Unreachable(), Cells: row(in.ID)})
			}
			lb := false
			for _, c := range t.Cells {
				lb = lb || c.Instance == "lb"
			}
			if lb {
				ht.Rows = append(ht.Rows, htmlRow{ID: "load balancer", LB: true, Cells: row("lb")})
			}
		}
		for _, f := range byTarget[name] {
			hf := htmlFinding{Finding: f, Title: f.Kind.Title(), Groups: strings.Join(f.Groups, " ")}
			if f.Probe != nil {
				hf.Probe = probeString(*f.Probe)
			}
			if f.Share > 0 {
				hf.Share = fmt.Sprintf("%.0f%%", f.Share*100)
			}
			ht.Findings = append(ht.Findings, hf)
		}
		p.Targets = append(p.Targets, ht)
	}
	for g := range groups {
		p.Groups = append(p.Groups, g)
	}
	sort.Strings(p.Groups)
	return p
}

func htmlCellOf(c diff.Cell, ok bool) htmlCell {
	if !ok {
		return htmlCell{Class: "none", Symbol: "·", Title: "not probed"}
	}
	hc := htmlCell{Class: c.Outcome, Title: c.Outcome}
	switch c.Outcome {
	case diff.OutcomeAllowed:
		hc.Symbol = "✓"
	case diff.OutcomeBlocked:
		hc.Symbol = "✗"
	default:
		hc.Class, hc.Symbol = "error", "!"
	}
	if c.Outcome == diff.OutcomeError && c.Reason != "" {
		hc.Status = c.Reason
	}
	if c.Status != 0 {
		hc.Status = fmt.Sprint(c.Status)
		hc.Title += fmt.Sprintf(", HTTP %d", c.Status)
	}
	if c.Reason != "" {
		hc.Title += ": " + c.Reason
	}
	if c.Drift {
		hc.Class += " drift"
		hc.Title += " (differs from the majority)"
	}
	return hc
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root { --allowed: #d7f5dd; --blocked: #fde2e1; --error: #fff1c2; --drift: #c0262d; --muted: #667; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1f24; background: #f6f7f9; }
header { background: #1d2433; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; }
header .meta { color: #b8c0d0; font-size: 13px; }
main { padding: 16px 24px; }
.summary { font-weight: 600; margin: 0 0 12px; }
.incomplete { background: #fff1c2; border: 1px solid #e0b400; padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; }
.filters { display: flex; gap: 12px; flex-wrap: wrap; align-items: center; background: #fff; padding: 10px 12px; border-radius: 8px; border: 1px solid #dde; position: sticky; top: 0; z-index: 1; }
.filters label { font-size: 13px; color: var(--muted); }
.filters select, .filters input { font: inherit; padding: 3px 6px; }
section.target { background: #fff; border: 1px solid #dde; border-radius: 8px; padding: 12px 16px; margin: 16px 0; }
section.target h2 { margin: 0 0 2px; font-size: 17px; }
.url { color: var(--muted); font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
.matrix-wrap { overflow-x: auto; margin: 10px 0; }
table.matrix { border-collapse: separate; border-spacing: 3px; }
table.matrix th { font-weight: 600; font-size: 12px; text-align: left; vertical-align: bottom; padding: 2px 6px; }
table.matrix th.probe { text-align: center; cursor: help; }
table.matrix th.probe span { display: block; font-weight: 400; color: var(--muted); }
details.probes { font-size: 13px; margin-bottom: 8px; }
details.probes summary { cursor: pointer; color: var(--muted); }
details.probes ul { margin: 4px 0; padding-left: 20px; font-family: ui-monospace, monospace; font-size: 12px; }
table.matrix th.inst { font-family: ui-monospace, monospace; white-space: nowrap; }
table.matrix th.inst small { display: block; font-family: system-ui, sans-serif; font-weight: 400; color: var(--muted); }
tr.unreachable th.inst { color: #a33; }
tr.lb th.inst { font-style: italic; }
.group { display: inline-block; border-radius: 4px; padding: 0 5px; background: #e6e9f2; font-size: 11px; font-family: system-ui, sans-serif; }
td.cell { min-width: 44px; text-align: center; border-radius: 4px; padding: 4px 6px; font-weight: 600; }
td.cell small { display: block; font-weight: 400; font-size: 11px; color: var(--muted); }
td.allowed { background: var(--allowed); color: #176b2c; }
td.blocked { background: var(--blocked); color: #9d1c1c; }
td.error { background: var(--error); color: #7a5a00; }
td.none { background: #f0f0f3; color: #aaa; }
td.drift { outline: 3px solid var(--drift); outline-offset: -3px; }
.legend { font-size: 12px; color: var(--muted); }
.legend span { display: inline-block; padding: 0 6px; border-radius: 3px; margin-right: 6px; }
.finding { border-left: 5px solid #99a; padding: 8px 12px; margin: 10px 0; background: #fafbfc; border-radius: 0 6px 6px 0; }
.finding[hidden] { display: none; }
.finding.error { border-color: #c0262d; }
.finding.warning { border-color: #d08a00; }
.finding.info { border-color: #3b74c4; }
.finding .head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
.sev { text-transform: uppercase; font-size: 11px; font-weight: 700; padding: 1px 6px; border-radius: 3px; color: #fff; background: #99a; }
.sev.error { background: #c0262d; } .sev.warning { background: #d08a00; } .sev.info { background: #3b74c4; }
.kind { font-family: ui-monospace, monospace; font-weight: 600; }
.insts { font-family: ui-monospace, monospace; font-size: 12px; color: #333; word-break: break-all; }
.finding p { margin: 4px 0; }
.finding dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0; font-size: 13px; }
.finding dt { color: var(--muted); }
.finding dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; white-space: pre-wrap; }
.repro { position: relative; }
.repro pre { background: #1d2433; color: #e6e9f2; padding: 8px 64px 8px 10px; border-radius: 6px; margin: 4px 0; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
button.copy { position: absolute; top: 4px; right: 4px; font-size: 11px; }
.none-found { color: #176b2c; }
</style>
</head>
<body>
<header><h1>{{.Title}}</h1><div class="meta">{{.Meta}}</div></header>
<main>
<p class="summary">{{.Summary}}</p>
{{if .Incomplete}}<div class="incomplete">Incomplete run: the report is partial ({{.Incomplete}}).</div>{{end}}
<div class="filters">
 <label>severity <select id="f-severity"><option value="">all</option>{{range .Severities}}<option>{{.}}</option>{{end}}</select></label>
 <label>kind <select id="f-kind"><option value="">all</option>{{range .Kinds}}<option>{{.}}</option>{{end}}</select></label>
 <label>group <select id="f-group"><option value="">all</option>{{range .Groups}}<option>{{.}}</option>{{end}}</select></label>
 <label>text <input id="f-text" type="search" placeholder="instance, origin, header..."></label>
 <span class="legend"><span style="background:var(--allowed)">✓ allowed</span><span style="background:var(--blocked)">✗ blocked</span><span style="background:var(--error)">! error</span><span style="outline:3px solid var(--drift);outline-offset:-3px">drift</span></span>
</div>
{{range .Targets}}
<section class="target">
<h2>{{.Name}}</h2>
{{if .URL}}<div class="url">{{.URL}}</div>{{end}}
{{if .Probes}}
<div class="matrix-wrap"><table class="matrix">
<thead><tr><th>instance</th>{{range .Probes}}<th class="probe" title="{{.Title}}">{{.ID}}<span>{{.Method}}</span></th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr class="inst{{if .LB}} lb{{end}}{{if .Unreachable}} unreachable{{end}}" data-group="{{.Group}}"><th class="inst">{{.ID}}{{if .Group}} <span class="group">{{.Group}}</span>{{end}}<small>{{.Addr}}{{if .Detail}} {{.Detail}}{{end}}{{if .Unreachable}} unreachable{{end}}</small></th>{{range .Cells}}<td class="cell {{.Class}}" title="{{.Title}}">{{.Symbol}}{{if .Status}}<small>{{.Status}}</small>{{end}}</td>{{end}}</tr>
{{end}}</tbody></table></div>
<details class="probes"><summary>{{len .Probes}} probes (browser scenarios)</summary><ul>{{range .Probes}}<li>{{.Title}}</li>{{end}}</ul></details>
{{end}}
<h3><span class="shown">{{len .Findings}}</span> of {{len .Findings}} findings shown</h3>
{{range .Findings}}
<div class="finding {{.Severity}}" data-severity="{{.Severity}}" data-kind="{{.Kind}}" data-groups="{{.Groups}}">
 <div class="head"><span class="sev {{.Severity}}">{{.Severity}}</span><span class="kind" title="{{.Title}}">{{.Kind}}</span><span class="insts">{{range $i, $id := .Instances}}{{if $i}}, {{end}}{{$id}}{{end}}{{if .Groups}} ({{.Groups}}){{end}}</span></div>
 <p>{{.Message}}</p>
 <dl>
 {{if .Probe}}<dt>probe</dt><dd>{{.Probe}}</dd>{{end}}
 {{if .Expected}}<dt>expected</dt><dd>{{.Expected}}</dd>{{end}}
 {{if .Observed}}<dt>observed</dt><dd>{{.Observed}}</dd>{{end}}
 {{if .Share}}<dt>share</dt><dd>{{.Share}} of requests through the load balancer</dd>{{end}}
 </dl>
 {{if .Reproduce}}<div class="repro"><pre>{{.Reproduce}}</pre><button class="copy" type="button">copy</button></div>{{end}}
</div>
{{else}}<p class="none-found">No findings.</p>
{{end}}
</section>
{{end}}
</main>
<script>{{.Script}}</script>
</body>
</html>
`))
