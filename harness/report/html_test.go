package report_test

import (
	"bytes"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// update regenerates the golden files: go test ./harness/report -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// samplePath is a fixed report with one check of every verdict, evidence
// of every kind (answered, abandoned, no answer, a body with markup), fixes
// on failing, warning, passing and skipped checks, and a load section. The
// JUnit tests and cmd/hookcert read it too.
const samplePath = "testdata/sample.json"

func sample(t *testing.T) *report.Report {
	t.Helper()
	r, err := report.Read(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(go test -update rewrites it if the change is intended)", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: got %d lines, want %d (go test -update rewrites it)", name, len(gl), len(wl))
	}
}

func TestHTMLGolden(t *testing.T) {
	html, err := sample(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.golden.html", html)
}

func TestHTMLIsDeterministic(t *testing.T) {
	// Maps (headers, counts, status codes) must not leak their random
	// iteration order into the page, or golden files and diffs of
	// reports would flap.
	r := sample(t)
	first, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, err := r.HTML()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two renderings of the same report differ")
		}
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	html, err := sample(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, bad := range []struct{ re, why string }{
		{`(?i)<script`, "no script: the page must read without JavaScript"},
		{`(?i)<link\b`, "no linked stylesheet, font or icon"},
		{`(?i)<(img|iframe|object|embed|video|audio|source)\b`, "no embedded resource that would be fetched"},
		{`(?i)\bsrc\s*=`, "nothing loaded from a src"},
		{`(?i)@import|url\(`, "no CSS import or url() fetch"},
	} {
		if loc := regexp.MustCompile(bad.re).FindStringIndex(page); loc != nil {
			t.Errorf("%s, but found %q", bad.why, page[loc[0]:min(loc[1]+40, len(page))])
		}
	}
	// A link is followed only when clicked, but the only network links are
	// the fixes' to the README; evidence URLs, the receiver's, are text.
	for _, m := range regexp.MustCompile(`(?i)href="((https?:)?//[^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], readmeURL+"#") {
			t.Errorf("the page links to %s: only fixes link to the network, to %s", m[1], readmeURL)
		}
	}
	for _, want := range []string{"<style>", `<svg xmlns="http://www.w3.org/2000/svg"`, `name="viewport"`, "@media print", "@media (max-width:40rem)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestHTMLEscapesEvidence(t *testing.T) {
	// ROB-01's evidence holds a request and a response body with markup: a
	// receiver's answer must never become part of the page.
	html, err := sample(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	if strings.Contains(page, "<script>alert") {
		t.Fatal("a body from the evidence was written as markup")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") {
		t.Error("the response body of ROB-01 is not shown, escaped")
	}
}

// section returns the <details> element of one check.
func section(t *testing.T, page, id string) string {
	t.Helper()
	start := strings.Index(page, `<details class="check `)
	for start >= 0 {
		end := strings.Index(page[start:], "\n</details>")
		if end < 0 {
			break
		}
		el := page[start : start+end]
		if strings.Contains(el, `id="`+id+`"`) {
			return el
		}
		next := strings.Index(page[start+end:], `<details class="check `)
		if next < 0 {
			break
		}
		start += end + next
	}
	t.Fatalf("no section for %s", id)
	return ""
}

func TestHTMLShowsEveryCheck(t *testing.T) {
	r := sample(t)
	html, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, res := range r.Results {
		sec := section(t, page, res.ID)
		if !strings.Contains(page, `href="#`+res.ID+`"`) {
			t.Errorf("the matrix does not link to %s", res.ID)
		}
		if !strings.Contains(sec, `data-verdict="`+string(res.Verdict)+`"`) {
			t.Errorf("%s is not marked %s", res.ID, res.Verdict)
		}
		open := strings.Contains(sec[:strings.Index(sec, ">")], " open")
		wantOpen := res.Verdict == harness.Fail || res.Verdict == harness.Warn
		if open != wantOpen {
			t.Errorf("%s (%s): open=%v, want %v: failures and warnings expanded, the rest collapsed", res.ID, res.Verdict, open, wantOpen)
		}
		if !strings.Contains(sec, res.Requirement) && !strings.Contains(sec, escaped(res.Requirement)) {
			t.Errorf("%s does not quote its requirement", res.ID)
		}
	}
	skip := section(t, page, "ORD-04")
	if !strings.Contains(skip, "Skipped because") || !strings.Contains(skip, "interrupted before this check ran") {
		t.Error("the skipped check does not say why it was skipped")
	}
	retry := section(t, page, "RETRY-01")
	if !strings.Contains(retry, "abandoned</span> by the sender") || !strings.Contains(retry, "attempt 2") {
		t.Error("the timeline of RETRY-01 does not show the abandoned attempt and the retry")
	}
	rob := section(t, page, "ROB-01")
	if !strings.Contains(rob, "context deadline exceeded") {
		t.Error("an exchange without an answer does not say why")
	}
}

// escaped escapes s the way html/template writes text.
func escaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "`", "&#96;").Replace(s)
}

// textOf is the text a reader sees of a piece of the page: its tags
// dropped, its characters unescaped.
func textOf(markup string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(markup, ""))
}

// readmeURL is where fixes link to, the README on GitHub.
const readmeURL = "https://github.com/realm-ai/hookcert/blob/main/README.md"

// TestHTMLShowsHowToFix: a failing or warning check says how to fix it, in
// its section and in the summary at the top, with its README reference a
// link to the README on GitHub; a check that passed or was skipped has
// nothing to fix and shows none, though report.json holds its fix.
func TestHTMLShowsHowToFix(t *testing.T) {
	r := sample(t)
	b, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	top := textOf(page[strings.Index(page, `id="failures"`):strings.Index(page, `id="matrix"`)])
	for _, res := range r.Results {
		sec := section(t, page, res.ID)
		text := textOf(sec)
		shown := strings.Contains(text, "How to fix:")
		want := res.Fix != "" && (res.Verdict == harness.Fail || res.Verdict == harness.Warn)
		if shown != want {
			t.Errorf("%s (%s, fix %q): shows how to fix %v, want %v", res.ID, res.Verdict, res.Fix, shown, want)
		}
		if res.Fix == "" {
			continue
		}
		words, ref, _ := strings.Cut(res.Fix, "README.md#")
		if !want {
			if strings.Contains(text, strings.TrimSpace(words)) {
				t.Errorf("%s (%s) shows its fix, which only failures and warnings do", res.ID, res.Verdict)
			}
			continue
		}
		link := `<a href="` + readmeURL + "#" + ref + `">README.md#` + ref + `</a>`
		if !strings.Contains(text, "How to fix: "+words) || !strings.Contains(sec, link) {
			t.Errorf("%s: the section does not say %q with the link %s:\n%s", res.ID, res.Fix, link, sec)
		}
		if !strings.Contains(top, "how to fix "+words) {
			t.Errorf("%s: the summary at the top does not say how to fix it", res.ID)
		}
	}
}

func TestHTMLPutsFailuresFirst(t *testing.T) {
	html, err := sample(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	order := []string{`id="verdict"`, `id="failures"`, `id="warnings"`, `id="matrix"`, `id="load"`, `id="IDEM-02"`, `id="SIG-06"`, `id="ORD-04"`, `id="TLS-04"`, `id="SIG-01"`}
	last := -1
	for _, marker := range order {
		i := strings.Index(page, marker)
		if i < 0 {
			t.Fatalf("the page lacks %s", marker)
		}
		if i < last {
			t.Errorf("%s comes too early: want banner, failures, warnings, matrix, load, then checks failed, warned, skipped, info, passed", marker)
		}
		last = i
	}
	failures := page[strings.Index(page, `id="failures"`):strings.Index(page, `id="warnings"`)]
	for _, want := range []string{"IDEM-02", "timesProcessed 1", "timesProcessed 2", "ROB-01", "500 Internal Server Error", "LOAD-02"} {
		if !strings.Contains(failures, want) {
			t.Errorf("the failure summary at the top lacks %q", want)
		}
	}
}

func TestHTMLBanner(t *testing.T) {
	res := func(v harness.Verdict) harness.Result {
		return harness.Result{ID: "SIG-01", Title: "t", Level: harness.Must, Category: "signature", Verdict: v}
	}
	for _, tc := range []struct {
		why     string
		results []harness.Result
		err     error
		overall harness.Overall
		class   string
	}{
		{"every check passed", []harness.Result{res(harness.Pass)}, nil, harness.Compliant, "b-ok"},
		{"a SHOULD broke", []harness.Result{res(harness.Warn)}, nil, harness.CompliantWithWarnings, "b-warn"},
		{"a check was skipped", []harness.Result{res(harness.Skip)}, nil, harness.Partial, "b-partial"},
		{"a MUST broke", []harness.Result{res(harness.Fail)}, nil, harness.NotCompliant, "b-fail"},
		{"the target was unreachable", nil, os.ErrDeadlineExceeded, harness.NotCertified, "b-cannot"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			r := report.New("https://example.com/hook", report.Settings{AckDeadline: harness.Duration(time.Second)})
			r.Finish(tc.results, true, tc.err)
			html, err := r.HTML()
			if err != nil {
				t.Fatal(err)
			}
			page := string(html)
			banner := page[strings.Index(page, `<header id="verdict"`):strings.Index(page, "</header>")]
			if !strings.Contains(banner, `class="banner `+tc.class+`"`) || !strings.Contains(banner, "<h1 id=\"overall\">"+string(tc.overall)+"</h1>") {
				t.Errorf("banner does not say %s in class %s:\n%s", tc.overall, tc.class, banner)
			}
			if tc.err != nil && !strings.Contains(page, `id="error"`) {
				t.Error("a run that could not be made does not say why")
			}
		})
	}
}

func TestHTMLBannerShowsSettings(t *testing.T) {
	html, err := sample(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	banner := page[strings.Index(page, `<header id="verdict"`):strings.Index(page, "</header>")]
	for _, want := range []string{
		"NOT COMPLIANT", "11 checks: 3 failed · 1 warning · 1 skipped · 4 passed · 2 info",
		"https://staging.example.com/hooks/realm", "conformance &#43; load; default catalogue",
		"2026-03-10 15:06:15 UTC", "42.318s", "ack deadline</dt><dd>1s", "sender timeout</dt><dd>5s",
		"retry schedule</dt><dd>1s, 2s, 4s", "probe</dt><dd>on", "strict</dt><dd>off", "hookcert " + harness.Version,
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner lacks %q", want)
		}
	}
}

func TestLoadSectionOnlyWithLoad(t *testing.T) {
	r := sample(t)
	r.Load = nil
	html, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(html), `id="load"`) {
		t.Error("a report without a load section shows one")
	}
	html, err = sample(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="load-percentiles"`, `id="load-histogram"`, `id="load-over-time"`, "ack deadline 1s", "99.50 %", "load-attacker-1.gob"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("the load section lacks %q", want)
		}
	}
}

// TestHTMLShowsTheUpload: an exchange's request says, in one line under
// its body, how the body was written; the others say nothing of it.
func TestHTMLShowsTheUpload(t *testing.T) {
	page, err := withUpload(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	sig01, sig06 := section(t, string(page), "SIG-01"), section(t, string(page), "SIG-06")
	if !strings.Contains(textOf(sig01), "upload: "+uploadText) {
		t.Errorf("SIG-01 does not show how its body was written:\n%s", textOf(sig01))
	}
	if strings.Contains(sig06, "upload: ") {
		t.Error("SIG-06, whose exchange has no upload description, shows one")
	}
}
