package scenario

import (
	"slices"
	"strings"
)

// ProbeLabel is the label of every scenario that needs the probe, so that
// the label filter '!probe' runs only what works without a probe URL.
const ProbeLabel = "probe"

// AllLabels returns the Ginkgo labels of the scenario: its category, its
// level in lowercase (must, should, info), ProbeLabel when it needs the
// probe, then its own Labels; each once, in that order.
func (s *Scenario) AllLabels() []string {
	all := []string{s.Category, strings.ToLower(string(s.Level))}
	if s.Probe {
		all = append(all, ProbeLabel)
	}
	all = append(all, s.Labels...)
	out := make([]string, 0, len(all))
	for _, l := range all {
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
