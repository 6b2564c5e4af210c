package report

import (
	"regexp"

	"github.com/realm-ai/hookcert/harness"
)

// readmeURL is where the README links of fixes point: the README on
// GitHub, so that a link works from a report opened out of a CI artifact,
// far from any checkout.
const readmeURL = "https://github.com/realm-ai/hookcert/blob/main/README.md"

// readmeRef finds the link a fix gives to a README section, written
// README.md#anchor.
var readmeRef = regexp.MustCompile(`README\.md#[A-Za-z0-9_-]+`)

// hint is a check's fix as the HTML shows it: the text around its README
// link, and the link. A fix without a link is all Before.
type hint struct {
	Before, Ref, After string
	// URL is where Ref leads on GitHub.
	URL string
}

// showsFix reports whether a check's fix is shown: only a failing or
// warning check has something to fix.
func showsFix(r harness.Result) bool {
	return r.Fix != "" && broken(r)
}

// hintOf splits a fix around its README link, or returns nil when the
// check shows no fix.
func hintOf(r harness.Result) *hint {
	if !showsFix(r) {
		return nil
	}
	loc := readmeRef.FindStringIndex(r.Fix)
	if loc == nil {
		return &hint{Before: r.Fix}
	}
	ref := r.Fix[loc[0]:loc[1]]
	return &hint{Before: r.Fix[:loc[0]], Ref: ref, After: r.Fix[loc[1]:], URL: readmeURL + ref[len("README.md"):]}
}

// fixText is a fix for plain text, where a link is only a link when
// written whole: its README link becomes the GitHub URL, which CI logs
// and test viewers make clickable.
func fixText(fix string) string {
	return readmeRef.ReplaceAllStringFunc(fix, func(ref string) string { return readmeURL + ref[len("README.md"):] })
}
