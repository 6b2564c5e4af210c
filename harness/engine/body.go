package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

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
// errorMessage, or a filler field in data. multibyte pads with characters
// of 2, 3 and 4 bytes in UTF-8 instead of ASCII.
//
// The filler, up to 5 MiB for ROB-05, is written once into the body's
// place for it: the event is re-encoded around a short marker, which the
// filler then replaces. Neither needs escaping in a JSON string, so the
// bytes are those of encoding the whole string.
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
	const marker = "hookcert-padding-goes-here"
	framed, err := events.Mutate(body, events.Set(field, prefix+marker))
	if err != nil {
		return nil, err
	}
	at := bytes.LastIndex(framed, []byte(marker))
	fill := max(size-len(body)-overhead, 0)
	out := make([]byte, 0, len(framed)-len(marker)+fill)
	out = append(out, framed[:at]...)
	out = appendFiller(out, fill, multibyte)
	return append(out, framed[at+len(marker):]...), nil
}

// appendFiller appends n bytes of filler to b: ASCII, or characters of 2, 3
// and 4 bytes with ASCII where the last one would be cut.
func appendFiller(b []byte, n int, multibyte bool) []byte {
	const unit = "é漢🙂"
	end := len(b) + n
	if multibyte {
		for len(b)+len(unit) <= end {
			b = append(b, unit...)
		}
		for _, r := range unit {
			if len(b)+utf8.RuneLen(r) > end {
				break
			}
			b = utf8.AppendRune(b, r)
		}
	}
	// The ASCII filler doubles what it has written, as bytes.Repeat does.
	start := len(b)
	b = slices.Grow(b, end-start)[:end]
	if start < end {
		b[start] = 'x'
		for n := 1; start+n < end; n *= 2 {
			copy(b[start+n:end], b[start:start+n])
		}
	}
	return b
}
