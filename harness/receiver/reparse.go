package receiver

import (
	"bytes"
	"encoding/json"
)

// reserialize is what faultVerifyReparsed verifies: body parsed as a web
// framework parses it (numbers as float64) and written again compactly
// with encoding/json, keys in the order they came. For the compact,
// integer-only JSON the event factory writes, that gives the same bytes;
// for any other formatting of the same event it does not.
func reserialize(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var out bytes.Buffer
	if err := copyValue(dec, &out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func copyValue(dec *json.Decoder, out *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		out.WriteByte(byte(t))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				out.WriteByte(',')
			}
			if t == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				if err := writeScalar(out, key); err != nil {
					return err
				}
				out.WriteByte(':')
			}
			if err := copyValue(dec, out); err != nil {
				return err
			}
		}
		end, err := dec.Token()
		if err != nil {
			return err
		}
		out.WriteByte(byte(end.(json.Delim)))
		return nil
	default:
		return writeScalar(out, t)
	}
}

// writeScalar writes one scalar as encoding/json does.
func writeScalar(out *bytes.Buffer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	out.Write(b)
	return nil
}

// unverifiedID is the eventId of a body not yet authenticated, "" when it
// has none; what faultMarkBeforeVerify records.
func unverifiedID(body []byte) string {
	id, _ := unverified(body)
	return id
}

// unverifiedType is the eventType of a body not yet authenticated, for
// faultModelSkipVerify, or "".
func unverifiedType(body []byte) string {
	_, typ := unverified(body)
	return typ
}

func unverified(body []byte) (id, typ string) {
	var ev struct {
		EventID   string `json:"eventId"`
		EventType string `json:"eventType"`
	}
	if json.Unmarshal(body, &ev) != nil {
		return "", ""
	}
	return ev.EventID, ev.EventType
}
