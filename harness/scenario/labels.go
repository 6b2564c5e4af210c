package scenario

import (
	"regexp"
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

// SlowLabel marks a check that waits minutes (IDEM-07 waits 5). It runs
// only when the label filter names it, never by default.
const SlowLabel = "slow"

// Slow reports whether the scenario is a slow check.
func (s *Scenario) Slow() bool { return slices.Contains(s.Labels, SlowLabel) }

// namesSlow matches a label filter that names the slow label other than
// to exclude it.
var namesSlow = regexp.MustCompile(`(^|[^!\w-])` + SlowLabel + `($|[^\w-])`)

// WantsSlow reports whether a label filter asks for the slow checks: it
// names the label (LABELS=slow, 'idempotency || slow'), other than as
// !slow.
func WantsSlow(filter string) bool {
	return namesSlow.MatchString(strings.TrimSpace(filter))
}
