package render

import "html/template"

// htmlTemplate is the page: inline CSS, the matrices, the findings (before
// the matrices for a large fleet), the page script. Every value goes through html/template's escaping.
var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root { --allowed: #d7f5dd; --neutral: #e4e7ee; --unexpected: #fbd0ce; --error: #fff1c2; --drift: #6f2dbd; --muted: #667; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1f24; background: #f6f7f9; }
header { background: #1d2433; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; }
header .meta { color: #b8c0d0; font-size: 13px; }
main { padding: 16px 24px; }
.verdict { font-size: 16px; font-weight: 700; margin: 0 0 4px; }
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
td.ok-allowed { background: var(--allowed); color: #176b2c; }
td.ok-blocked { background: var(--neutral); color: #4a5060; }
td.unexpected { background: var(--unexpected); color: #9d1c1c; }
td.error { background: var(--error); color: #7a5a00; }
td.none { background: #f7f7f9; color: #aaa; }
td.drift { outline: 3px solid var(--drift); outline-offset: -3px; }
table.matrix th.probe .origin { font-family: ui-monospace, monospace; font-size: 11px; max-width: 140px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
details.adversarial { margin: 8px 0; }
details.adversarial > summary { cursor: pointer; font-weight: 600; }
.legend { font-size: 12px; color: var(--muted); margin: 6px 0; }
.legend span { display: inline-block; padding: 0 6px; border-radius: 3px; margin: 0 6px 2px 0; }
.minus { color: #b3261e; font-weight: 600; } .plus { color: #176b2c; font-weight: 600; }
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
.finding p.evidence { margin: 8px 0 0; font-family: ui-monospace, monospace; font-size: 12px; color: var(--muted); word-break: break-all; }
.repro { position: relative; }
.repro pre { background: #1d2433; color: #e6e9f2; padding: 8px 64px 8px 10px; border-radius: 6px; margin: 4px 0; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
button.copy { position: absolute; top: 4px; right: 4px; font-size: 11px; }
.none-found { color: #176b2c; }
</style>
</head>
<body>
<header><h1>{{.Title}}</h1><div class="meta">{{.Meta}}</div></header>
<main>
<p class="verdict">{{.Verdict}}</p>
<p class="summary">{{.Summary}}</p>
{{if .Incomplete}}<div class="incomplete">Incomplete run: the report is partial ({{.Incomplete}}).</div>{{end}}
<div class="filters">
 <label>severity <select id="f-severity"><option value="">all</option>{{range .Severities}}<option>{{.}}</option>{{end}}</select></label>
 <label>kind <select id="f-kind"><option value="">all</option>{{range .Kinds}}<option>{{.}}</option>{{end}}</select></label>
 <label>group <select id="f-group"><option value="">all</option>{{range .Groups}}<option>{{.}}</option>{{end}}</select></label>
 <label>text <input id="f-text" type="search" placeholder="instance, origin, header..."></label>
 <label><input id="f-drift" type="checkbox"{{if .DriftOnly}} checked{{end}}> drift only</label>
</div>
<div class="legend">Symbols: ✓ the browser allows the request · ✗ the browser blocks it · ! no HTTP answer (refused, timeout, tls, reset, bad response; the reason is below) · <b>·</b> not probed (not run, or no request a browser would send) · health "unknown": the provider does not report health.<br>
Colours say whether the answer is <i>as expected</i> (the policy's verdict; blocked for adversarial origins; else the majority's), not whether the browser allows it:
<span style="background:var(--allowed)">allowed, as expected</span><span style="background:var(--neutral)">blocked, as expected</span><span style="background:var(--unexpected)">not as expected</span><span style="background:var(--error)">no answer</span><span style="outline:3px solid var(--drift);outline-offset:-3px">outline: differs from the majority (drift)</span></div>
{{range .Targets}}
<section class="target">
<h2>{{.Name}}</h2>
{{if .URL}}<div class="url">{{.URL}}</div>{{end}}
{{if $.DriftOnly}}{{template "findings" .}}{{end}}{{range .Matrices}}
{{if .Adversarial}}<details class="adversarial"><summary>{{len .Probes}} adversarial probes (origins an attacker's page could send; each should be blocked): {{if .Unexpected}}{{.Unexpected}} answers not as expected{{else}}all as expected{{end}}</summary>{{end}}
<div class="matrix-wrap"><table class="matrix">
<thead><tr><th>instance</th>{{range .Probes}}<th class="probe" title="{{.Title}}">{{.ID}}<span>{{.Method}}</span><span class="origin">{{.Host}}</span></th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr class="inst{{if .LB}} lb{{end}}{{if .Unreachable}} unreachable{{end}}{{if .Drifting}} drifting{{end}}" data-group="{{.Group}}"><th class="inst">{{.ID}}{{if .Group}} <span class="group">{{.Group}}</span>{{end}}<small>{{.Addr}}{{if .Detail}} {{.Detail}}{{end}}{{if .Unreachable}} unreachable{{end}}</small></th>{{range .Cells}}<td class="cell {{.Class}}" title="{{.Title}}">{{.Symbol}}{{if .Status}}<small>{{.Status}}</small>{{end}}</td>{{end}}</tr>
{{end}}</tbody></table></div>
<details class="probes"><summary>{{len .Probes}} {{if .Adversarial}}adversarial {{end}}probes (browser scenarios)</summary><ul>{{range .Probes}}<li>{{.Title}}</li>{{end}}</ul></details>
{{if .Adversarial}}</details>{{end}}
{{end}}
{{if not $.DriftOnly}}{{template "findings" .}}{{end}}</section>
{{end}}
</main>
<script>{{.Script}}</script>
</body>
</html>
{{define "findings"}}<h3><span class="shown">{{len .Findings}}</span> of {{len .Findings}} findings shown</h3>
{{range .Findings}}
<div class="finding {{.Severity}}" data-severity="{{.Severity}}" data-kind="{{.Kind}}" data-groups="{{.Groups}}">
 <div class="head"><span class="sev {{.Severity}}">{{.Severity}}</span><span class="kind" title="{{.Title}}">{{.Kind}}</span><span class="insts">{{range $i, $id := .Named}}{{if $i}}, {{end}}{{$id}}{{end}}{{if .More}} {{.More}}{{end}}{{if .Groups}} ({{.Groups}}){{end}}</span></div>
 <p>{{.Message}}</p>
 <dl>{{if .Explains}}
 <dt>explains</dt><dd>{{.Explains}}</dd>{{end}}
 {{if .Probes}}<dt>{{if gt (len .Probes) 1}}probes{{else}}probe{{end}}</dt><dd>{{range $i, $p := .Probes}}{{if $i}}
{{end}}{{$p}}{{end}}</dd>{{end}}
 {{if .Difference}}<dt>differs</dt><dd>{{range $i, $d := .Difference}}{{if $i}}
{{end}}{{$d.Header}}:{{range $d.Tokens}} <span class="{{.Class}}">{{.Text}}</span>{{end}}{{end}}</dd>{{else}}
 {{if .Expected}}<dt>expected</dt><dd>{{.Expected}}</dd>{{end}}
 {{if .Observed}}<dt>observed</dt><dd>{{.Observed}}</dd>{{end}}{{end}}
 {{if .Share}}<dt>share</dt><dd>{{.Share}} of requests through the load balancer</dd>{{end}}
 </dl>
 {{if .Evidence}}{{range .Evidence}}<p class="evidence">{{.Who}}: {{.Probes}}</p>{{if .Reproduce}}
 <div class="repro"><pre>{{.Reproduce}}</pre><button class="copy" type="button">copy</button></div>{{end}}
 {{end}}{{else if .Reproduce}}<div class="repro"><pre>{{.Reproduce}}</pre><button class="copy" type="button">copy</button></div>{{end}}
</div>
{{else}}<p class="none-found">{{$.NoneFound}}</p>
{{end}}
{{end}}`))
