package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/realm-ai/hookcert/harness/events"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// The changes of the registry (mutations) that replace a delivery's body:
// still signed correctly unless a signature change says otherwise.

// deleteFields removes the step's fields from the event's body.
func (d *draft) deleteFields() error {
	paths := d.body().Delete
	opts := make([]events.EventOption, len(paths))
	for i, p := range paths {
		opts[i] = events.Delete(p)
	}
	body, err := events.Mutate(d.ev.Body, opts...)
	if err != nil {
		return fmt.Errorf("removing fields: %w", err)
	}
	d.a.Body = body
	return nil
}

// padBody grows the event's body to the step's size, chunked if it says so.
func (d *draft) padBody() error {
	b := d.body()
	size, err := scenario.ParseSize(b.Size)
	if err != nil {
		return err
	}
	body, err := pad(d.ev.Body, int(size), b.Multibyte)
	if err != nil {
		return err
	}
	d.a.Body, d.a.Chunked = body, b.Chunked
	return nil
}

// reformatBody writes the event in the step's other bytes.
func (d *draft) reformatBody() error {
	body, err := reformat(d.ev.Body, d.body().Format)
	if err != nil {
		return err
	}
	d.a.Body = body
	return nil
}

// setFields overrides the step's fields of the event's body. Not
// validated: a newer REALM's values are outside today's schemas on purpose.
func (d *draft) setFields() error {
	set := d.body().Set
	var opts []events.EventOption
	for _, k := range slices.Sorted(maps.Keys(set)) {
		opts = append(opts, events.Set(k, set[k]))
	}
	body, err := events.Mutate(d.ev.Body, opts...)
	if err != nil {
		return fmt.Errorf("setting fields: %w", err)
	}
	d.a.Body = body
	return nil
}

// pad grows a valid event body to size bytes, so it stays valid JSON: its
// errorMessage, or a filler field in data. multibyte pads with characters of 2, 3 and 4
// bytes in UTF-8 instead of ASCII.
func pad(body []byte, size int, multibyte bool) ([]byte, error) {
	// An event with an errorMessage grows its message, a field every
	// receiver knows: the size is then all that is unusual about it.
	field, overhead, prefix := "data.padding", len(`,"padding":""`), ""
	var doc struct {
		Data struct {
			ErrorMessage *string `json:"errorMessage"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Data.ErrorMessage != nil {
		field, overhead, prefix = "data.errorMessage", 1, *doc.Data.ErrorMessage+" "
	}
	fill := size - len(body) - overhead
	if fill < 0 {
		fill = 0
	}
	text := strings.Repeat("x", fill)
	if multibyte {
		const unit = "é漢🙂"
		text = strings.Repeat(unit, fill/len(unit)+1)
		// A character cut at the end gives way to ASCII, to keep the size.
		text = strings.ToValidUTF8(text[:fill], "")
		text += strings.Repeat("x", fill-len(text))
	}
	return events.Mutate(body, events.Set(field, prefix+text))
}
