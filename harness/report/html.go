package report

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/realm-ai/hookcert/harness"
)

// HTML renders the report as one self-contained page: no scripts, no
// fetches, readable from a CI artifact.
func (r *Report) HTML() ([]byte, error) {
	var b bytes.Buffer
	if err := page.Execute(&b, r); err != nil {
		return nil, fmt.Errorf("report: rendering HTML: %w", err)
	}
	return b.Bytes(), nil
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"lower": func(v harness.Verdict) string { return string(v) },
	"failing": func(v harness.Verdict) bool {
		return v == harness.Fail || v == harness.Warn
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Overall}}: REALM webhook receiver conformance</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem;color:#1b1b1b}
.banner{padding:1rem 1.25rem;border-radius:.5rem;color:#fff;background:#2e7d32}
.banner.NOT{background:#c62828}.banner.PARTIAL{background:#8d6e00}.banner.WARN{background:#ef6c00}
.banner h1{margin:0;font-size:1.6rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
.v{font-weight:700}.PASS{color:#2e7d32}.FAIL{color:#c62828}.WARN{color:#ef6c00}.SKIP{color:#8d6e00}.INFO{color:#1565c0}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:.5rem;font-size:13px}
details{margin:.25rem 0}
</style></head><body>
<div class="banner {{if or (eq .Overall "NOT COMPLIANT") (eq .Overall "NOT CERTIFIED")}}NOT{{else if eq .Overall "PARTIAL"}}PARTIAL{{else if eq .Overall "COMPLIANT WITH WARNINGS"}}WARN{{end}}">
<h1>{{.Overall}}</h1>
<div>{{.Target}} · {{len .Results}} checks: {{range $v, $n := .Counts}}{{$n}} {{$v}} {{end}}</div>
{{if .Error}}<div><strong>{{.Error}}</strong></div>{{end}}
</div>
<p>hookcert {{.Version}} · started {{.Started.Format "2006-01-02 15:04:05 UTC"}} · took {{.Duration}} ·
ack deadline {{.Settings.AckDeadline}} · sender timeout {{.Settings.SenderTimeout}} · probe {{if .Settings.Probe}}on{{else}}off{{end}}{{if .Settings.Strict}} · strict{{end}}{{if .Settings.Insecure}} · insecure{{end}}</p>
<table><tr><th>check</th><th>level</th><th>verdict</th><th>title</th></tr>
{{range .Results}}<tr><td><a href="#{{.ID}}">{{.ID}}</a></td><td>{{.Level}}</td><td class="v {{lower .Verdict}}">{{.Verdict}}</td><td>{{.Title}}</td></tr>
{{end}}</table>
{{range .Results}}<section id="{{.ID}}">
<details{{if failing .Verdict}} open{{end}}><summary><span class="v {{lower .Verdict}}">{{.Verdict}}</span> <strong>{{.ID}}</strong> {{.Title}}</summary>
<p><strong>{{.Level}}</strong>: {{.Requirement}}<br><em>{{.Seed}}</em></p>
{{if .Reason}}<p>{{.Reason}}</p>{{end}}
{{if .Expected}}<p>Expected</p><pre>{{.Expected}}</pre>{{end}}
{{if .Observed}}<p>Observed</p><pre>{{.Observed}}</pre>{{end}}
{{range .Notes}}<p>{{.}}</p>{{end}}
{{range .Evidence}}<pre>{{.Request.Method}} {{.Request.URL}} (attempt {{.Attempt}}, {{.Request.BodySize}} bytes)
{{range $k, $v := .Request.Header}}{{$k}}: {{range $v}}{{.}}{{end}}
{{end}}{{.Request.Body}}
→ {{if .Response}}{{.Response.Status}} in {{.Latency}}
{{.Response.Body}}{{else if .Abandoned}}abandoned on purpose{{else}}no response: {{.Err}}{{end}}</pre>
{{end}}</details></section>
{{end}}
</body></html>
`))
