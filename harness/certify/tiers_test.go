package certify_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEndToEndTestsExist keeps the Makefile's lists of end-to-end tests
// (E2E_CERTIFY, E2E_REPORT) true to the code: make test skips them and make
// e2e runs them by name, so a name that no longer matches a test would
// drop it from make e2e without a word (go test -run finds nothing and
// passes). A renamed test fails here instead.
func TestEndToEndTestsExist(t *testing.T) {
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for list, dir := range map[string]string{"E2E_CERTIFY": ".", "E2E_REPORT": "../report"} {
		m := regexp.MustCompile(`(?m)^` + list + ` := (.+)$`).FindSubmatch(makefile)
		if m == nil {
			t.Errorf("the Makefile has no %s list", list)
			continue
		}
		tests := testsIn(t, dir)
		for _, name := range strings.Split(string(m[1]), "|") {
			if !tests[name] {
				t.Errorf("%s names %s, which is not a test in %s", list, name, filepath.Base(filepath.Clean(dir)))
			}
		}
	}
}

// testsIn returns the names of the top-level tests in dir's _test.go files.
func testsIn(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s: %v", dir, err)
	}
	decl := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
	tests := map[string]bool{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllSubmatch(src, -1) {
			tests[string(m[1])] = true
		}
	}
	return tests
}
