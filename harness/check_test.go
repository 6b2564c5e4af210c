package harness_test

import (
	"slices"
	"testing"

	"github.com/realm-ai/hookcert/harness"
)

func TestCategories(t *testing.T) {
	cats := harness.Categories()
	if len(cats) == 0 || cats[len(cats)-1] != harness.CategoryLoad {
		t.Errorf("categories %v, want the load checks last", cats)
	}
	if c := slices.Compact(slices.Sorted(slices.Values(cats))); len(c) != len(cats) {
		t.Errorf("categories %v name one twice", cats)
	}
	cats[0] = "changed"
	if harness.Categories()[0] == "changed" {
		t.Error("a caller changed the catalogue's categories")
	}
}
