package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/realm-ai/hookcert/harness/schema"
)

func runValidate(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "validate", "FILE...")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("validate: name at least one file to check")
	}
	cat := schema.Default()
	failed := false
	for _, name := range pos {
		doc, err := os.ReadFile(name)
		if err != nil {
			return usagef("validate: %v", err)
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
