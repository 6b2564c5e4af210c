package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/harness/schema"
)

// isScenario tells a scenario file from an event payload: YAML files are
// scenarios, and so is JSON with a top-level "steps".
func isScenario(name string, doc []byte) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return true
	}
	var probe struct {
		Steps json.RawMessage `json:"steps"`
	}
	return json.Unmarshal(doc, &probe) == nil && probe.Steps != nil
}

// probeAnswer names the schema of a probe's answer ("probe-event" or
// "probe-job") when doc is one rather than an event: no eventType, and
// timesProcessed, or a jobId with a status.
func probeAnswer(doc []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(doc, &top) != nil || top["eventType"] != nil {
		return ""
	}
	switch {
	case top["timesProcessed"] != nil:
		return "probe-event"
	case top["jobId"] != nil && top["status"] != nil:
		return "probe-job"
	}
	return ""
}

func runValidate(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "validate", "FILE...")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("validate: name at least one event payload (.json) or scenario file (.yaml) to check")
	}
	cat := schema.Default()
	failed := false
	for _, name := range pos {
		doc, err := os.ReadFile(name)
		if err != nil {
			return usagef("validate: %v", err)
		}
		if isScenario(name, doc) {
			sc, err := scenario.Parse(name, doc)
			if err != nil {
				failed = true
				fmt.Fprintf(e.stdout, "%s: invalid scenario\n%v\n", name, err)
				continue
			}
			fmt.Fprintf(e.stdout, "%s: valid scenario %s (%d steps)\n", name, sc.ID, len(sc.Steps))
			continue
		}
		if probe := probeAnswer(doc); probe != "" {
			if err := cat.Validate(probe, doc); err != nil {
				failed = true
				fmt.Fprintf(e.stdout, "%s: invalid\n  %v\n", name, err)
				continue
			}
			fmt.Fprintf(e.stdout, "%s: valid %s answer\n", name, probe)
			continue
		}
		if err := cat.ValidateEvent(doc); err != nil {
			failed = true
			fmt.Fprintf(e.stdout, "%s: invalid\n  %v\n", name, err)
			continue
		}
		var head struct {
			EventType string `json:"eventType"`
		}
		_ = json.Unmarshal(doc, &head)
		fmt.Fprintf(e.stdout, "%s: valid %s event\n", name, head.EventType)
	}
	if failed {
		return errFailed
	}
	return nil
}
