package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
)

// screenshots keeps the screenshots of TestBrowserFaultyRun for a person to
// look at: go test ./harness/report -run Browser -screenshots /tmp/shots
var screenshots = flag.String("screenshots", "", "directory to keep the browser screenshots in")

// chromium returns Debian's headless browser, or skips: .ci/run installs
// it, so CI always runs these tests.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missingTool(t, "chromium is not installed (apt-get install chromium; .ci/run installs it)")
	return ""
}

// browse opens a file in headless Chromium with a window of the given
// size and returns what it printed: the rendered DOM for --dump-dom.
func browse(t *testing.T, size string, page string, extra ...string) string {
	t.Helper()
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--window-size=" + size,
	}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, errb.String())
	}
	return out.String()
}

func writePage(t *testing.T, r *report.Report) string {
	t.Helper()
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, report.HTMLFile)
}

var (
	detailsRE = regexp.MustCompile(`<details class="check [^"]*" id="([^"]+)" data-verdict="([A-Z]+)"( open="")?>`)
	overallRE = regexp.MustCompile(`<h1 id="overall">([^<]*)</h1>`)
)

// checkDOM checks a rendered report from the browser's DOM: the verdict,
// every check by ID with its verdict, failures and warnings expanded and
// the rest collapsed, each failure's observation inside its section, and
// how to fix a failure or warning there, never a pass.
func checkDOM(t *testing.T, dom string, r *report.Report) {
	t.Helper()
	m := overallRE.FindStringSubmatch(dom)
	if m == nil || m[1] != string(r.Overall) {
		t.Fatalf("the rendered page's verdict is %v, want %s", m, r.Overall)
	}
	seen := map[string]bool{}
	for _, d := range detailsRE.FindAllStringSubmatch(dom, -1) {
		seen[d[1]] = true
		want := r.Result(d[1])
		if want == nil {
			t.Errorf("the page shows %s, which is not in the report", d[1])
			continue
		}
		if d[2] != string(want.Verdict) {
			t.Errorf("%s shows %s, want %s", d[1], d[2], want.Verdict)
		}
		open := d[3] != ""
		if wantOpen := want.Verdict == harness.Fail || want.Verdict == harness.Warn; open != wantOpen {
			t.Errorf("%s (%s) is open=%v in the browser, want %v", d[1], d[2], open, wantOpen)
		}
	}
	for _, res := range r.Results {
		if !seen[res.ID] {
			t.Errorf("the rendered page lacks check %s", res.ID)
		}
		i := strings.Index(dom, `id="`+res.ID+`"`)
		if i < 0 {
			t.Errorf("the rendered page has no section for %s", res.ID)
			continue
		}
		// The section ends where the next check's begins.
		end := strings.Index(dom[i+1:], `<details class="check `)
		if end < 0 {
			end = len(dom) - i - 1
		}
		sec := html.UnescapeString(dom[i : i+1+end])
		broken := res.Verdict == harness.Fail || res.Verdict == harness.Warn
		if shown := strings.Contains(textOf(dom[i:i+1+end]), "How to fix: "+strings.TrimSpace(res.Fix)); res.Fix != "" && shown != broken {
			t.Errorf("%s (%s): the rendered section shows how to fix it %v, want %v", res.ID, res.Verdict, shown, broken)
		}
		if res.Verdict != harness.Fail {
			continue
		}
		for _, line := range strings.Split(res.Observed, "\n") {
			if !strings.Contains(sec, line) {
				t.Errorf("the rendered section of failed %s lacks its observation %q", res.ID, line)
			}
		}
	}
}

func TestBrowserRendersSample(t *testing.T) {
	r := sample(t)
	dom := browse(t, "1280,900", writePage(t, r), "--dump-dom")
	checkDOM(t, dom, r)
	if strings.Count(dom, "<svg") < 3 {
		t.Error("the browser did not build the three load charts")
	}
}

// frameProbe shows the report in an iframe of an exact viewport size
// (headless Chromium will not make a window narrower than 500px) and,
// once it has loaded, measures its layout into a hidden <pre id="layout">,
// which --dump-dom prints and a screenshot does not show. The
// probe is a test page beside the report; the report itself has no
// script.
const frameProbe = `<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" src="%s" style="border:0;width:%dpx;height:%dpx"></iframe>
<script>
window.addEventListener('load', function () {
  var w = document.getElementById('f').contentWindow, d = w.document;
  function box(sel) {
    var e = d.querySelector(sel);
    if (!e) return null;
    var r = e.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, text: e.textContent};
  }
  var out = {
    vh: w.innerHeight, vw: w.innerWidth, sw: d.documentElement.scrollWidth,
    overall: box('#overall'),
    first: box('#failures > ol > li:first-child'),
    firstWhy: box('#failures > ol > li:first-child .steps')
  };
  var pre = document.createElement('pre');
  pre.id = 'layout';
  pre.style.display = 'none';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script></body></html>
`

type box struct {
	Top, Bottom float64
	Text        string
}

type layout struct {
	VH, VW, SW               float64
	Overall, First, FirstWhy *box
}

// framed writes the probe page that shows page in a w×h iframe, beside
// it, and returns its path.
func framed(t *testing.T, page string, w, h int) string {
	t.Helper()
	probe := filepath.Join(filepath.Dir(page), fmt.Sprintf("measure-%dx%d.html", w, h))
	doc := fmt.Sprintf(frameProbe, filepath.Base(page), w, h)
	if err := os.WriteFile(probe, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(probe) })
	return probe
}

// measure lays the page out in a w×h viewport and returns where things
// are; extra are more flags for the same launch (a screenshot).
func measure(t *testing.T, page string, w, h int, extra ...string) layout {
	t.Helper()
	size := fmt.Sprintf("%d,%d", max(w, 500)+40, h+200)
	dom := browse(t, size, framed(t, page, w, h), append([]string{"--dump-dom", "--allow-file-access-from-files"}, extra...)...)
	m := regexp.MustCompile(`<pre id="layout"[^>]*>([^<]*)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the layout probe did not run at %dx%d", w, h)
	}
	var l layout
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &l); err != nil {
		t.Fatal(err)
	}
	if l.VW != float64(w) || l.VH != float64(h) {
		t.Fatalf("the probe's viewport is %.0fx%.0f, want %dx%d", l.VW, l.VH, w, h)
	}
	return l
}

// TestBrowserFaultyRun certifies the reference receiver with a planted
// fault, opens its index.html in headless Chromium and checks what a
// person sees: on a laptop screen (a 1280×800 viewport), without
// scrolling, NOT COMPLIANT and the first failed check with why it failed;
// on a phone (390×844), the verdict first and no sideways scrolling. It keeps screenshots of both (see -screenshots).
func TestBrowserFaultyRun(t *testing.T) {
	t.Parallel()
	chromium(t)
	if testing.Short() {
		t.Skip("runs the signature and idempotency checks against the reference receiver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	// The signature and idempotency checks: the planted fault shows in the
	// latter; the rest of the catalogue would only lengthen the page below
	// the first screen.
	s, err := certify.Conformance(ctx, certify.Settings{Faults: []receiver.Fault{receiver.Fault("double-process")}, ReportDir: dir, Labels: "signature || idempotency", Timing: harness.CompressedTiming()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Report
	if r.Overall != harness.NotCompliant || r.Counts[harness.Fail] == 0 {
		t.Fatalf("the planted fault made the run %s with %d failures; the test needs a failing run", r.Overall, r.Counts[harness.Fail])
	}
	page := filepath.Join(dir, report.HTMLFile)
	shots := *screenshots
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// One launch renders the DOM and takes the laptop screenshot.
	checkDOM(t, browse(t, "1280,900", page, "--dump-dom", "--screenshot="+filepath.Join(shots, "failing-run.png")), r)

	var first harness.Result
	for _, g := range r.Groups() {
		for _, res := range g.Results {
			if res.Verdict == harness.Fail && first.ID == "" {
				first = res
			}
		}
	}
	desk := measure(t, page, 1280, 800)
	if desk.Overall == nil || desk.First == nil || desk.FirstWhy == nil {
		t.Fatalf("the page lacks the verdict or the failure summary: %+v", desk)
	}
	if desk.Overall.Text != string(harness.NotCompliant) || desk.Overall.Bottom > desk.VH {
		t.Errorf("the verdict %q ends at %.0fpx of a %.0fpx screen, want NOT COMPLIANT on the first screen", desk.Overall.Text, desk.Overall.Bottom, desk.VH)
	}
	if !strings.Contains(desk.First.Text, first.ID) || !strings.Contains(desk.FirstWhy.Text, "observed") {
		t.Errorf("the first failure listed is %q, want %s with what was observed", desk.First.Text, first.ID)
	}
	if desk.FirstWhy.Bottom > desk.VH {
		t.Errorf("why %s failed ends at %.0fpx of a %.0fpx screen: a reader must scroll to see it", first.ID, desk.FirstWhy.Bottom, desk.VH)
	}
	t.Logf("1280x800: verdict ends at %.0fpx, why %s failed ends at %.0fpx of %.0fpx", desk.Overall.Bottom, first.ID, desk.FirstWhy.Bottom, desk.VH)
	// The phone shot frames the page in a 390px viewport (see framed).
	phone := measure(t, page, 390, 844, "--screenshot="+filepath.Join(shots, "failing-run-phone.png"))
	if phone.Overall == nil {
		t.Fatal("on a phone the page shows no verdict")
	}
	t.Logf("390x844: page %.0fpx wide in a %.0fpx viewport, verdict ends at %.0fpx", phone.SW, phone.VW, phone.Overall.Bottom)
	if phone.SW > phone.VW+1 {
		t.Errorf("on a 390px phone the page is %.0fpx wide: it scrolls sideways", phone.SW)
	}
	if phone.Overall.Bottom > phone.VH {
		t.Error("on a phone the verdict is not on the first screen")
	}

	for _, name := range []string{"failing-run.png", "failing-run-phone.png"} {
		out := filepath.Join(shots, name)
		info, err := os.Stat(out)
		if err != nil || info.Size() < 10_000 {
			t.Errorf("no screenshot at %s (%v)", out, err)
		}
	}
}

// missingTool skips a test whose external tool is not installed, or fails
// it where .ci/run installed the tools and says so with
// HOOKCERT_REQUIRE_TOOLS=1, so CI cannot go green on a skipped check.
func missingTool(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("HOOKCERT_REQUIRE_TOOLS") != "" {
		t.Fatal(msg + " (HOOKCERT_REQUIRE_TOOLS is set)")
	}
	t.Skip(msg)
}
