package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// object is a JSON object that keeps its keys in insertion order, so that
// bodies read like REALM's (eventId first, data last) and byte-identical
// bodies come out of identical inputs. encoding/json maps would sort keys.
type object struct {
	fields []field
}

type field struct {
	key string
	val any
}

func newObject(capacity int) *object {
	return &object{fields: make([]field, 0, capacity)}
}

// add appends a key that the caller knows is not present yet; the builders
// use it to avoid the lookup of set.
func (o *object) add(key string, val any) *object {
	o.fields = append(o.fields, field{key, val})
	return o
}

func (o *object) index(key string) int {
	for i := range o.fields {
		if o.fields[i].key == key {
			return i
		}
	}
	return -1
}

func (o *object) get(key string) (any, bool) {
	if i := o.index(key); i >= 0 {
		return o.fields[i].val, true
	}
	return nil, false
}

// set replaces the value of key in place, or appends it.
func (o *object) set(key string, val any) {
	if i := o.index(key); i >= 0 {
		o.fields[i].val = val
		return
	}
	o.fields = append(o.fields, field{key, val})
}

func (o *object) remove(key string) {
	if i := o.index(key); i >= 0 {
		o.fields = append(o.fields[:i], o.fields[i+1:]...)
	}
}

// str returns the value of key if it is a string.
func (o *object) str(key string) string {
	v, _ := o.get(key)
	s, _ := v.(string)
	return s
}

// errPath is wrapped by every error of setPath and deletePath.
var errPath = errors.New("bad path")

// setPath sets the value at a dotted path ("data.results.0.url"), creating
// missing intermediate objects. A numeric segment indexes an existing array.
func setPath(root *object, path string, val any) error {
	segs, err := splitPath(path)
	if err != nil {
		return err
	}
	var cur any = root
	for i, seg := range segs {
		last := i == len(segs)-1
		switch node := cur.(type) {
		case *object:
			if last {
				node.set(seg, val)
				return nil
			}
			next, ok := node.get(seg)
			if !ok || next == nil {
				next = newObject(2)
				node.set(seg, next)
			}
			cur = next
		case map[string]any:
			if last {
				node[seg] = val
				return nil
			}
			next, ok := node[seg]
			if !ok || next == nil {
				next = map[string]any{}
				node[seg] = next
			}
			cur = next
		case []any:
			n, err := arrayIndex(node, seg, path)
			if err != nil {
				return err
			}
			if last {
				node[n] = val
				return nil
			}
			cur = node[n]
		default:
			return fmt.Errorf("%w %q: %q holds %s, not an object or array", errPath, path, strings.Join(segs[:i], "."), describe(node))
		}
	}
	return nil
}

// deletePath removes the value at a dotted path. A path that is already
// absent is not an error: the result is the same document.
func deletePath(root *object, path string) error {
	segs, err := splitPath(path)
	if err != nil {
		return err
	}
	var cur any = root
	for i, seg := range segs {
		last := i == len(segs)-1
		switch node := cur.(type) {
		case *object:
			if last {
				node.remove(seg)
				return nil
			}
			next, ok := node.get(seg)
			if !ok {
				return nil
			}
			cur = next
		case map[string]any:
			if last {
				delete(node, seg)
				return nil
			}
			next, ok := node[seg]
			if !ok {
				return nil
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 || n >= len(node) {
				return nil
			}
			if last {
				return fmt.Errorf("%w %q: deleting an array element is not supported; Set the array instead", errPath, path)
			}
			cur = node[n]
		default:
			return nil
		}
	}
	return nil
}

func splitPath(path string) ([]string, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: empty path", errPath)
	}
	segs := strings.Split(path, ".")
	for _, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("%w %q: empty segment", errPath, path)
		}
	}
	return segs, nil
}

func arrayIndex(arr []any, seg, path string) (int, error) {
	n, err := strconv.Atoi(seg)
	if err != nil {
		return 0, fmt.Errorf("%w %q: %q is not an index into an array", errPath, path, seg)
	}
	if n < 0 || n >= len(arr) {
		return 0, fmt.Errorf("%w %q: index %d out of range (length %d)", errPath, path, n, len(arr))
	}
	return n, nil
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// appendJSON appends the compact JSON encoding of v. The types the builders
// use are encoded directly, which keeps event building cheap; anything a
// caller passes to Set goes through encoding/json.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case *object:
		b = append(b, '{')
		for i, f := range v.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.key)
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, f.val); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case string:
		return appendString(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case nil:
		return append(b, "null"...), nil
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			return b, fmt.Errorf("encode %T: %w", v, err)
		}
		return append(b, raw...), nil
	}
}

// appendString appends s as a JSON string. Plain printable ASCII, which is
// all the builders produce, is copied as is; anything else is escaped by
// encoding/json so that control characters and invalid UTF-8 stay valid.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(b, raw...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// parseDocument decodes a JSON object, keeping key order and numbers exactly
// as written.
func parseDocument(body []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the top-level value")
	}
	o, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("top-level value is %s, not an object", describe(v))
	}
	return o, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := newObject(8)
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string) // the decoder only yields string keys here
			val, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			o.set(key, val)
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, err
		}
		return o, nil
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			val, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, val)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, err
		}
		return arr, nil
	default:
		return tok, nil // string, json.Number, bool or nil
	}
}
