package scenario

import (
	"regexp"
	"slices"
	"strings"
)

// probeLabel is the label of every scenario that needs the probe, so that
// the label filter '!probe' runs only what works without a probe URL.
const probeLabel = "probe"

// AllLabels returns the Ginkgo labels of the scenario: its category, its
// level in lowercase (must, should, info), probeLabel when it needs the
// probe, then its own Labels; each once, in that order.
func (s *Scenario) AllLabels() []string {
	all := []string{s.Category, strings.ToLower(string(s.Level))}
	if s.Probe {
		all = append(all, probeLabel)
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

// slow reports whether the scenario is a slow check.
func (s *Scenario) slow() bool { return slices.Contains(s.Labels, SlowLabel) }

// Runs reports whether the scenario runs under the label filter as far as
// its being slow goes: a check that is not slow always does; a slow one
// only when the filter names the slow label or the check's ID (LABELS=slow,
// 'idempotency || slow', LABELS=IDEM-07), other than to exclude it (!slow).
// The filter itself still selects among the checks that run.
func (s *Scenario) Runs(filter string) bool {
	return !s.slow() || names(filter, SlowLabel) || names(filter, s.ID)
}

// names reports whether a label filter names the label other than as
// !label.
func names(filter, label string) bool {
	return regexp.MustCompile(`(^|[^!\w-])` + regexp.QuoteMeta(label) + `($|[^\w-])`).MatchString(strings.TrimSpace(filter))
}
