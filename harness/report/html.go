package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/figure"
)

// html renders the report as one self-contained page: inline CSS and SVG,
// no script, no font or image fetched from anywhere, so it reads the same
// from a CI artifact, on a phone and on paper. The verdict banner and the
// failed checks come first; passing checks are collapsed. Every exchange
// of a failing or warning check offers a curl command that re-sends it;
// a body the page cannot carry byte for byte is read from a file that
// Write puts beside the page.
func (r *Report) html() ([]byte, error) {
	var b bytes.Buffer
	if err := page.Execute(&b, newPage(r)); err != nil {
		return nil, fmt.Errorf("report: rendering HTML: %w", err)
	}
	return b.Bytes(), nil
}

// symbols mark verdicts by shape as well as colour, for colour-blind
// readers and black-and-white print.
var symbols = map[harness.Verdict]string{
	harness.Pass:          "✓",
	harness.Fail:          "✗",
	harness.Warn:          "!",
	harness.Skip:          "–",
	harness.InfoVerdict:   "i",
	harness.NotApplicable: "∅",
	harness.Affected:      "↯",
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// countsLine is the banner's count of checks per verdict, failures first.
func countsLine(r *Report) string {
	words := map[harness.Verdict][2]string{
		harness.Fail:          {"failed", "failed"},
		harness.Warn:          {"warning", "warnings"},
		harness.Skip:          {"skipped", "skipped"},
		harness.Pass:          {"passed", "passed"},
		harness.InfoVerdict:   {"info", "info"},
		harness.NotApplicable: {"not applicable", "not applicable"},
		harness.Affected:      {"affected by an outage", "affected by an outage"},
	}
	var parts []string
	for _, v := range harness.Verdicts() {
		if rare(v) && r.Counts[v] == 0 {
			continue
		}
		w := words[v]
		parts = append(parts, plural(r.Counts[v], w[0], w[1]))
	}
	return plural(len(r.Results), "check", "checks") + ": " + strings.Join(parts, " · ")
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"sym":    func(v harness.Verdict) string { return symbols[v] },
	"plural": plural,
	"onoff":  onOff,
	"counts": countsLine,
	"css":    func() template.CSS { return template.CSS(stylesheet) },
	"held":   heldWord,
	"lat":    func(d harness.Duration) string { return latency(time.Duration(d)) },
	"rate":   rate,
	"pct":    figure.Percent,
	"times":  times,
	"calm":   calmWord,
}).Parse(pageTemplate))

const pageTemplate = `
{{- define "hint"}}{{.Before}}{{if .URL}}<a href="{{.URL}}">{{.Ref}}</a>{{end}}{{.After}}{{end -}}
{{- define "why"}}<ol>
{{- range .}}
<li><a class="id" href="#{{.ID}}">{{.ID}}</a> <span class="lvl">{{.Level}}</span> <span class="title">{{.Title}}</span>
<ul class="steps">
{{- range .Why}}
<li>{{if .What}}<span class="what">{{.What}}</span>{{end}}{{if .Expected}}<span class="exp"><span class="k">expected</span> {{.Expected}}</span>{{end}}<span class="obs"><span class="k">observed</span> {{.Observed}}</span></li>
{{- end}}
</ul>
{{- with .HowToFix}}
<p class="fix"><span class="k">how to fix</span> {{template "hint" .}}</p>
{{- end}}</li>
{{- end}}
</ol>
{{- end -}}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="generator" content="hookcert {{.Version}}">
<title>{{.Overall}}: {{.Target}} (hookcert)</title>
<style>{{css}}</style>
</head>
<body>
<header id="verdict" class="banner {{.Class}}" data-overall="{{.Overall}}">
<p class="kicker">REALM webhook receiver certification</p>
<h1 id="overall">{{.Overall}}</h1>
<p class="counts" id="counts">{{counts .Report}}</p>
<p class="target"><span class="k">target</span> <code>{{if .Target}}{{.Target}}{{else}}none{{end}}</code></p>
<p class="target"><span class="k">profile</span> {{.Profile}}</p>
<dl class="facts">
<div><dt>date</dt><dd>{{.Date}}</dd></div>
<div><dt>duration</dt><dd>{{.Took}}</dd></div>
<div><dt>ack deadline</dt><dd>{{.Settings.AckDeadline}}</dd></div>
<div><dt>sender timeout</dt><dd>{{.Settings.SenderTimeout}}</dd></div>
<div><dt>retry schedule</dt><dd>{{.Retries}}</dd></div>
{{- if .Settings.Settle}}
<div><dt>settle</dt><dd>{{.Settings.Settle}}</dd></div>
{{- end}}
{{- if .Settings.DedupeGap}}
<div><dt>dedupe gap</dt><dd>{{.Settings.DedupeGap}}</dd></div>
{{- end}}
{{- with .HTTP}}
<div><dt>HTTP</dt><dd>{{.}}</dd></div>
{{- end}}
<div><dt>probe</dt><dd>{{onoff .Settings.Probe}}</dd></div>
<div><dt>strict</dt><dd>{{onoff .Settings.Strict}}</dd></div>
{{- if .Settings.Scheme}}
<div><dt>signing scheme</dt><dd>{{.Settings.Scheme}}</dd></div>
{{- end}}
{{- if .Settings.Insecure}}
<div><dt>insecure</dt><dd>on: certificates not verified</dd></div>
{{- end}}
<div><dt>suite</dt><dd>{{.Suite}} {{.Version}}</dd></div>
</dl>
</header>
<main>
{{- if .Error}}
<p class="alert" role="alert" id="error"><strong>{{if eq .ExitCode 2}}The run could not be made in full (exit 2):{{else}}Error:{{end}}</strong> {{.Error}}</p>
{{- end}}
{{- with .Notes}}
<ul class="notes">{{range .}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
{{- if .Failed}}
<section id="failures" class="why v-FAIL">
<h2>{{plural (len .Failed) "check failed" "checks failed"}}</h2>
{{template "why" .Failed}}
</section>
{{- end}}
{{- if .Affected}}
<section id="affected" class="why v-AFFECTED">
<h2>{{plural (len .Affected) "check" "checks"}} affected by an outage, not judged</h2>
<p>An outage of the receiver met these checks: they would have failed or warned, but what they saw says nothing of their own requirements. The failure above reports the outage; run again once the receiver stays available.</p>
<p class="ids">{{range .Affected}}<a class="chip v-AFFECTED" href="#{{.ID}}"><span class="sym">{{sym .Verdict}}</span>{{.ID}}</a> {{end}}</p>
</section>
{{- end}}
{{- if .Warned}}
<section id="warnings" class="why v-WARN">
<h2>{{plural (len .Warned) "warning" "warnings"}} (SHOULD){{if not .Settings.Strict}}: STRICT=1 makes {{if eq (len .Warned) 1}}it a failure{{else}}them failures{{end}}{{end}}</h2>
{{template "why" .Warned}}
</section>
{{- end}}
<section id="matrix">
<h2>Checks by category</h2>
<p class="legend">{{range $v := .Sections}}<span class="chip v-{{.Verdict}}"><span class="sym">{{sym .Verdict}}</span>{{.Verdict}} {{len .Checks}}</span> {{end}}</p>
<table class="matrix">
{{- range .Groups}}
<tr><th scope="row">{{.Category}}</th><td>{{range .Results}}<a class="chip v-{{.Verdict}}" href="#{{.ID}}" title="{{.Verdict}}: {{.Title}}"><span class="sym">{{sym .Verdict}}</span>{{.ID}}</a> {{end}}</td></tr>
{{- end}}
</table>
</section>
{{- with .Load}}
<section id="load">
<h2>Load</h2>
{{- if .RetryBlock}}
<p class="legend">The figures and charts of this section are those of the first attempts, one per event, which LOAD-01 and LOAD-02 judge; Retries counts every attempt.</p>
{{- end}}
<dl class="kv">
<div><dt>{{if .RetryBlock}}first attempts{{else}}requests{{end}}</dt><dd>{{.Requests}}</dd></div>
<div><dt>rate</dt><dd>{{rate .Rate}} for {{.Duration}}</dd></div>
<div><dt>throughput (2xx)</dt><dd>{{rate .Throughput}}</dd></div>
<div><dt>answered 2xx</dt><dd>{{.SuccessPct}}</dd></div>
<div><dt>p99{{if .RetryBlock}}, first attempts{{end}}</dt><dd class="{{if .P99Within}}ok{{else}}bad{{end}}">{{lat .Latencies.P99}} (deadline {{.AckDeadline}})</dd></div>
<div><dt>past sender timeout ({{.SenderTimeout}})</dt><dd>{{.PastTimeout}} ({{.PastPct}})</dd></div>
{{- with .Attackers}}
<div><dt>attackers</dt><dd>{{range $i, $a := .}}{{if $i}}, {{end}}{{$a}}{{end}}</dd></div>
{{- end}}
{{- with .Protocols}}
<div><dt>answered in</dt><dd>{{range $i, $p := .}}{{if $i}}, {{end}}{{$p}}{{end}}</dd></div>
{{- end}}
</dl>
{{- with .RetryBlock}}
<div id="load-retries">
<h3>Retries</h3>
<dl class="kv">
<div><dt>retries</dt><dd>{{.On}}</dd></div>
<div><dt>events</dt><dd>{{.Events}}{{with .Short}} ({{.}}){{end}}</dd></div>
<div><dt>deliveries</dt><dd>{{.Deliveries}}</dd></div>
<div><dt>amplification (deliveries ÷ events)</dt><dd class="{{if .Storm}}bad{{else}}ok{{end}}">{{.Times}}{{if .Storm}} (≥ {{.Threshold}}: a retry storm){{end}}</dd></div>
<div><dt>never acknowledged{{if .Enabled}} after every retry{{end}}</dt><dd{{if .NeverAcknowledged}} class="bad"{{end}}>{{plural .NeverAcknowledged "event" "events"}}{{with .NeverPct}} ({{.}}){{end}}</dd></div>
{{- if .Pending}}
<div><dt>retries pending at the end</dt><dd>{{.Pending}}</dd></div>
{{- end}}
{{- if .CapDropped}}
<div><dt>retries dropped at the cap</dt><dd class="bad">{{.CapDropped}}: the cap of {{.PendingCap}} pending retries was reached</dd></div>
{{- end}}
</dl>
<table class="small"><caption>Deliveries by attempt</caption><tr><th>attempt</th><th>deliveries</th><th>acknowledged (2xx)</th></tr>
{{- range .Attempts}}
<tr><td>{{.Attempt}}</td><td>{{.Deliveries}}</td><td>{{.OK}}</td></tr>
{{- end}}
</table>
</div>
{{- end}}
<div class="charts">
<figure id="load-percentiles"><figcaption>Latency percentiles{{if .RetryBlock}}, first attempts; the table adds every attempt's{{end}}</figcaption>{{.PercentSVG}}
<table class="pct"><tr>{{if .RetryBlock}}<th></th>{{end}}{{range .Percentiles}}<th>{{.Name}}</th>{{end}}</tr><tr>{{if .RetryBlock}}<th scope="row">first attempts</th>{{end}}{{range .Percentiles}}<td{{if .Over}} class="bad"{{end}}>{{.Value}}</td>{{end}}</tr>{{if .RetryBlock}}<tr><th scope="row">all attempts</th>{{range .AllPercentiles}}<td{{if .Over}} class="bad"{{end}}>{{.Value}}</td>{{end}}</tr>{{end}}</table>
</figure>
{{- if .Histogram}}
<figure id="load-histogram"><figcaption>Latency histogram{{if .RetryBlock}}, first attempts{{end}}</figcaption>{{.Histogram}}</figure>
{{- end}}
{{- if .OverTime}}
<figure id="load-over-time"><figcaption>Latency over time{{if .RetryBlock}}, first attempts{{end}}</figcaption>{{.OverTime}}</figure>
{{- end}}
</div>
<div class="tables">
<table class="small"><caption>Answers by status</caption><tr><th>status</th><th>count</th></tr>
{{- range .Codes}}
<tr><td>{{if eq .What "0"}}no answer{{else}}{{.What}}{{end}}</td><td>{{.Count}}</td></tr>
{{- end}}
</table>
{{- with .Errors}}
<table class="small"><caption>Transport errors</caption><tr><th>error</th><th>count</th></tr>
{{- range .}}
<tr><td>{{.What}}</td><td>{{.Count}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- with .Processed}}
<table class="small"><caption>Processed, per the probe{{if .Sampled}} (a sample){{end}}</caption>
<tr><th>checked</th><td>{{.Checked}}</td></tr><tr><th>once</th><td>{{.Once}}</td></tr>
<tr><th>missing</th><td{{if .Missing}} class="bad"{{end}}>{{.Missing}}</td></tr><tr><th>duplicated</th><td{{if .Duplicated}} class="bad"{{end}}>{{.Duplicated}}</td></tr>
</table>
{{- end}}
</div>
{{- with .CapacityTable}}
{{- $storm := .Storm}}{{$searched := .StormSearched}}
<table class="small capacity"><caption>{{.Caption}}</caption>
<tr><th>rate</th><th>requests</th><th>p99</th><th>2xx</th><th></th>{{if $storm}}<th>amplification</th><th></th>{{end}}</tr>
{{- range .Steps}}
<tr><td>{{rate .Rate}}</td><td>{{.Requests}}</td><td>{{lat .P99}}</td><td>{{pct .Success}}</td><td class="{{if .Held}}ok{{else}}bad{{end}}">{{held .Held}}</td>{{if $storm}}<td>{{times .Amplification}}</td><td{{if $searched}} class="{{if .Calm}}ok{{else}}bad{{end}}"{{end}}>{{if $searched}}{{calm .Calm}}{{end}}</td>{{end}}</tr>
{{- end}}
</table>
{{- end}}
{{- with .ResultsFiles}}
<p class="files">Raw vegeta results (for <code>vegeta report</code> and <code>vegeta plot</code>): {{range $i, $f := .}}{{if $i}}, {{end}}<a href="{{$f}}">{{$f}}</a>{{end}}</p>
{{- end}}
</section>
{{- end}}
<section id="checks">
<h2>Every check</h2>
{{- range .Sections}}
<h3 class="vh v-{{.Verdict}}"><span class="sym">{{sym .Verdict}}</span>{{.Heading}} ({{len .Checks}})</h3>
{{- range .Checks}}
{{- $open := .OpenExchanges}}{{$id := .ID}}
<details class="check v-{{.Verdict}}" id="{{.ID}}" data-verdict="{{.Verdict}}"{{if .Open}} open{{end}}>
<summary><span class="badge v-{{.Verdict}}"><span class="sym">{{sym .Verdict}}</span>{{.Verdict}}</span> <span class="id">{{.ID}}</span> <span class="title">{{.Title}}</span> <span class="meta">{{.Level}} · {{.Category}}{{if .Took}} · {{.Took}}{{end}}</span>{{if or (eq .Verdict "SKIP") (eq .Verdict "N/A") (eq .Verdict "AFFECTED")}} <span class="skip-reason">{{.Reason}}</span>{{end}}</summary>
<div class="body">
<p class="req"><span class="lvl">{{.Level}}</span> {{.Requirement}}</p>
{{- if .Seed}}
<blockquote class="seed"><span class="k">the seed's words</span> {{.Seed}}</blockquote>
{{- end}}
{{- if and .Reason (ne .Reason .Observed) (ne .Verdict "AFFECTED")}}
<p class="reason"><strong>{{if eq .Verdict "SKIP"}}Skipped because{{else if eq .Verdict "N/A"}}Not applicable because{{else}}Measured{{end}}:</strong></p><pre class="reason">{{.Reason}}</pre>
{{- end}}
{{- if or .Expected .Observed}}
<div class="eo"><div><h4>Expected</h4><pre>{{.Expected}}</pre></div><div><h4>Observed</h4><pre class="observed">{{.Observed}}</pre></div></div>
{{- end}}
{{- with .HowToFix}}
<p class="fix"><strong>How to fix:</strong> {{template "hint" .}}</p>
{{- end}}
{{- with .Notes}}
<ul class="notes">{{range .}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
{{- if .Timeline}}
<h4>Evidence: {{plural (len .Timeline) "exchange" "exchanges"}}</h4>
<ol class="timeline">
{{- range .Timeline}}
<li class="ex{{if .Answered}}{{if not .OK}} not2xx{{end}}{{else}} noanswer{{end}}"><details{{if $open}} open{{end}}>
<summary><span class="at">#{{.N}} {{.Offset}}</span> <span class="m">{{.Method}}</span> <span class="url">{{.URL}}</span> <span class="att">{{if .Attempt}}attempt {{.Attempt}}{{else}}not a delivery{{end}}</span> → {{if .Answered}}<span class="st">{{.Status}} {{.StatusTxt}}</span> in {{.Latency}}{{else if .Abandoned}}<span class="st">abandoned</span> by the sender after {{.Latency}}{{else}}<span class="st">no response</span> after {{.Latency}}{{end}}</summary>
<div class="exb">
<div><h5>request{{with .Proto}}, {{.}}{{end}}</h5>
<table class="hdr">{{range .ReqHead}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>
{{- if .ReqSize}}
<p class="bh">body, {{.ReqSize}} bytes{{if .ReqCut}}, excerpt{{end}}</p><pre>{{.ReqBody}}</pre>
{{- with .ReqSegments}}
<p class="bh">upload: {{.}}</p>
{{- end}}
{{- else}}
<p class="bh">no body</p>
{{- end}}
</div>
<div><h5>response</h5>
{{- if .Answered}}
<p class="bh">{{.Status}} {{.StatusTxt}} after {{.Latency}}</p>
<table class="hdr">{{range .RespHead}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>
{{- if .RespSize}}
<p class="bh">body, {{.RespSize}} bytes{{if .RespCut}}, excerpt{{end}}</p><pre>{{.RespBody}}</pre>
{{- else}}
<p class="bh">no body</p>
{{- end}}
{{- else if .Abandoned}}
<p class="bh">none: the sender closed the connection on purpose once the body was sent</p>
{{- else}}
<p class="bh">none: {{.Err}}</p>
{{- end}}
</div>
</div>
{{- if .Resend}}
<div class="resend"><h5>Re-send this request</h5><pre id="resend-{{$id}}-{{.N}}">{{.Resend}}</pre></div>
{{- end}}
</details></li>
{{- end}}
</ol>
{{- end}}
</div>
</details>
{{- end}}
{{- end}}
</section>
</main>
<footer><p>{{.Suite}} {{.Version}} · exit status {{.ExitCode}}{{if not .Complete}} · the run did not complete{{end}} · report.json beside this page holds everything shown here; <code>hookcert report --from report.json</code> renders it again.</p></footer>
</body>
</html>
`
