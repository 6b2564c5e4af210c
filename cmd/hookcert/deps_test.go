package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheBinaryLinksNoGinkgoRuntime: the CLI shares Ginkgo's label-filter
// grammar (ginkgo/v2/types, through harness/certify) with the suites, and
// nothing else of Ginkgo or Gomega: a certification from the binary runs
// no test framework.
func TestTheBinaryLinksNoGinkgoRuntime(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"github.com/onsi/ginkgo/v2/types": true, "github.com/onsi/ginkgo/v2/formatter": true}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/onsi/") && !allowed[pkg] {
			t.Errorf("hookcert links %s", pkg)
		}
	}
}
