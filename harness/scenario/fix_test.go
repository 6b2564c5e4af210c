package scenario

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// readme is the README whose sections the fixes link to, from this
// package's folder.
const readme = "../../README.md"

// fixLink is the link a fix ends with: the README and a heading's anchor.
var fixLink = regexp.MustCompile(`README\.md#([a-z0-9_-]+)$`)

// maxFix bounds a fix: it is one or two sentences, shown in a table row of
// the Markdown summary and on one line of a CI failure.
const maxFix = 280

// anchors returns the link anchors GitHub gives the headings of a
// Markdown document: the heading lowercased, without punctuation, spaces
// made dashes, a repeated one numbered. Lines in fenced code blocks are
// not headings, though a shell comment there starts with #.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		level := len(line) - len(strings.TrimLeft(line, "#"))
		if fenced || level == 0 || level > 6 || !strings.HasPrefix(line[level:], " ") {
			continue
		}
		slug := strings.Map(func(r rune) rune {
			switch {
			case r == ' ':
				return '-'
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				return unicode.ToLower(r)
			}
			return -1
		}, strings.TrimSpace(line[level:]))
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

func TestAnchors(t *testing.T) {
	md := "# hookcert: conformance tests\n## The `hookcert` command\n```sh\n# not a heading\n```\n" +
		"## Build a receiver that passes\n#hashtag\n### Notes\n### Notes\n"
	got := anchors(md)
	for _, tc := range []struct {
		anchor string
		want   bool
		why    string
	}{
		{"hookcert-conformance-tests", true, "punctuation is dropped, spaces become dashes"},
		{"the-hookcert-command", true, "inline code keeps its text without the backticks"},
		{"build-a-receiver-that-passes", true, "the contract's section, which most fixes link to"},
		{"not-a-heading", false, "a shell comment in a fenced block is no heading"},
		{"hashtag", false, "a heading needs a space after its #"},
		{"notes", true, "the first of two equal headings keeps the plain anchor"},
		{"notes-1", true, "the second is numbered"},
	} {
		if got[tc.anchor] != tc.want {
			t.Errorf("anchor %q present = %v, want %v: %s (anchors: %v)", tc.anchor, got[tc.anchor], tc.want, tc.why, got)
		}
	}
}

// TestBuiltinFixes: every built-in check tells a receiver that fails it
// what to change, briefly, and links to the README section that says
// more; a link to a heading that was renamed would lead nowhere.
func TestBuiltinFixes(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	known := anchors(string(md))
	if !known["build-a-receiver-that-passes"] {
		t.Fatalf("the README's headings were not read: %v", known)
	}
	for _, s := range set {
		switch m := fixLink.FindStringSubmatch(s.Fix); {
		case strings.TrimSpace(s.Fix) == "":
			t.Errorf("%s (%s) has no fix: say what a receiver must change to pass, with a README link", s.ID, s.Source)
		case m == nil:
			t.Errorf("%s: fix %q does not end with a link README.md#anchor", s.ID, s.Fix)
		case !known[m[1]]:
			t.Errorf("%s: fix links to README.md#%s, which is no heading of the README", s.ID, m[1])
		case len(s.Fix) > maxFix:
			t.Errorf("%s: fix has %d characters, more than %d: keep it to one or two sentences", s.ID, len(s.Fix), maxFix)
		}
	}
}
