package certify_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
)

// ExampleConformance certifies an http.Handler from a Go test: here the
// bundled reference receiver, in a test of your own your receiver's
// handler, served by httptest. The checks selected by the label filter
// run against it, and the reports are written into the report directory.
func ExampleConformance() {
	secret := harness.Secret("whsec_example_handler_secret")
	handler, err := receiver.New(receiver.Config{Secrets: []harness.Secret{secret}})
	if err != nil {
		panic(err)
	}
	defer handler.Close()
	srv := httptest.NewServer(handler)
	defer srv.Close()

	set := certify.Defaults()
	set.URL = srv.URL + receiver.WebhookPath
	set.ProbeURL = srv.URL + receiver.ProbePath
	set.Secret = secret
	set.Labels = "signature && must"
	// The waits that only cost time compressed, for a go test; the bounds
	// a correct receiver must meet generous.
	set.Timing = harness.CompressedTiming()
	set.ReportDir, err = os.MkdirTemp("", "hookcert-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(set.ReportDir)

	s, err := certify.Conformance(context.Background(), set, nil)
	if err != nil {
		panic(err) // the reports could not be written
	}
	fmt.Println(s.Report.Overall, s.Report.ExitCode)
	// Output: COMPLIANT 0
}
