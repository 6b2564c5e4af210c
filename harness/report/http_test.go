package report_test

import (
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// TestTheBannerSaysWhichHTTPTheDeliveriesSpoke: the banner names the HTTP
// versions the deliveries were made in (from their evidence, not from
// what a handshake could offer), and HTTP_VERSION when the run pinned
// one; a report that knows neither says nothing of it.
func TestTheBannerSaysWhichHTTPTheDeliveriesSpoke(t *testing.T) {
	tests := []struct {
		why     string
		version harness.HTTPVersion
		protos  []string
		want    string // "" for no line at all
	}{
		{"the deliveries' version", harness.HTTPAuto, []string{"HTTP/2.0"}, "HTTP/2.0"},
		{"both versions, when the receiver spoke both", harness.HTTPAuto, []string{"HTTP/2.0", "HTTP/1.1", "HTTP/2.0"}, "HTTP/2.0 and HTTP/1.1"},
		{"the setting beside the version", harness.HTTP1, []string{"HTTP/1.1"}, "HTTP/1.1 (HTTP_VERSION=1.1)"},
		{"the setting alone when no delivery was answered", harness.HTTP2, nil, "HTTP_VERSION=2"},
		{"nothing from a report that records neither", harness.HTTPAuto, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			r := report.New("https://staging.example.com/hooks/realm", report.Settings{HTTPVersion: tt.version})
			res := harness.Result{ID: "SIG-01", Title: "t", Level: harness.Must, Category: "signature", Verdict: harness.Pass}
			for i, p := range tt.protos {
				res.Evidence = append(res.Evidence, harness.Exchange{Attempt: i + 1, Proto: p, Response: &harness.Response{Status: 202}})
			}
			r.Finish([]harness.Result{res}, true, nil)
			html, err := r.HTML()
			if err != nil {
				t.Fatal(err)
			}
			line := "<dt>HTTP</dt><dd>" + tt.want + "</dd>"
			switch has := strings.Contains(string(html), "<dt>HTTP</dt>"); {
			case tt.want == "" && has:
				t.Error("the banner has an HTTP line; want none")
			case tt.want != "" && !strings.Contains(string(html), line):
				t.Errorf("the banner lacks %s", line)
			}
		})
	}
}
