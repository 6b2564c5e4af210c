package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decode parses doc into the JSON data model the validator expects, keeping
// numbers as json.Number so that an integer seed is never mistaken for a
// float. Errors wrap errInvalidJSON and give the byte offset when the
// decoder knows it.
func decode(doc []byte) (any, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, fmt.Errorf("%w: empty document", errInvalidJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			return nil, fmt.Errorf("%w at byte %d: %w", errInvalidJSON, syn.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%w at byte %d: unexpected end of document", errInvalidJSON, len(doc))
		default:
			return nil, fmt.Errorf("%w: %w", errInvalidJSON, err)
		}
	}
	// A second value after the first ({"a":1}{"b":2}) is not one document.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w at byte %d: data after the top-level value", errInvalidJSON, dec.InputOffset())
	}
	return v, nil
}
