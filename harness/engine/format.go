package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/realm-ai/hookcert/harness/scenario"
)

// reformat writes body, a JSON event, in the byte form f (scenario.Format*):
// the same JSON value in other bytes. Strings, numbers and keys the form
// does not concern are written as the event factory writes them.
func reformat(body []byte, f string) ([]byte, error) {
	if f == scenario.FormatPretty {
		var out bytes.Buffer
		if err := json.Indent(&out, body, "", "  "); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
	switch f {
	case scenario.FormatEscaped, scenario.FormatSlashes, scenario.FormatDecimal, scenario.FormatExponent, scenario.FormatReversed:
	default:
		return nil, fmt.Errorf("unknown body format %q", f)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out bytes.Buffer
	if err := rewrite(dec, &out, f); err != nil {
		return nil, fmt.Errorf("body format %s: %w", f, err)
	}
	return out.Bytes(), nil
}

// rewrite copies one JSON value from dec to out in the byte form f.
func rewrite(dec *json.Decoder, out *bytes.Buffer, f string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := byte(']')
		if t == '{' {
			closing = '}'
		}
		var items [][]byte
		for dec.More() {
			var item bytes.Buffer
			if t == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				writeString(&item, key.(string), f)
				item.WriteByte(':')
			}
			if err := rewrite(dec, &item, f); err != nil {
				return err
			}
			items = append(items, item.Bytes())
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		if t == '{' && f == scenario.FormatReversed {
			slices.Reverse(items)
		}
		out.WriteByte(byte(t))
		out.Write(bytes.Join(items, []byte(",")))
		out.WriteByte(closing)
	case string:
		writeString(out, t, f)
	case json.Number:
		out.WriteString(number(string(t), f))
	case bool:
		fmt.Fprint(out, t)
	case nil:
		out.WriteString("null")
	}
	return nil
}

// writeString writes s as JSON: as encoding/json does, with every
// non-ASCII character escaped in the escaped form, or every '/' escaped
// in the slashes form.
func writeString(out *bytes.Buffer, s string, f string) {
	b, _ := json.Marshal(s) // a string always encodes
	switch f {
	case scenario.FormatSlashes:
		out.Write(bytes.ReplaceAll(b, []byte("/"), []byte(`\/`)))
		return
	case scenario.FormatEscaped:
	default:
		out.Write(b)
		return
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r < utf8.RuneSelf:
			out.WriteByte(b[0])
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(out, `\u%04x`, r)
		}
		b = b[size:]
	}
}

// number writes the JSON number n in the form f: an integer with a
// fraction (decimal) or in exponent form (exponent), exactly, without
// going through a float; other numbers as they are.
func number(n string, f string) string {
	if strings.ContainsAny(n, ".eE") {
		return n
	}
	switch f {
	case scenario.FormatDecimal:
		return n + ".0"
	case scenario.FormatExponent:
		sign, digits := "", n
		if strings.HasPrefix(digits, "-") {
			sign, digits = "-", digits[1:]
		}
		frac := strings.TrimRight(digits[1:], "0")
		if frac != "" {
			frac = "." + frac
		}
		return fmt.Sprintf("%s%c%se+%02d", sign, digits[0], frac, len(digits)-1)
	}
	return n
}
