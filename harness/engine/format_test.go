package engine

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/realm-ai/hookcert/harness/scenario"
)

// TestReformatKeepsTheValue checks each byte form against what it must
// write, and that every form holds the same JSON value as the original.
func TestReformatKeepsTheValue(t *testing.T) {
	body := []byte(`{"eventId":"evt_1","data":{"errorMessage":"modèle refusé 🎨","seed":1000,"ratio":0.5,"list":[7,-30],"ok":true,"none":null}}`)
	for _, tc := range []struct{ form, want string }{
		{scenario.FormatEscaped, `{"eventId":"evt_1","data":{"errorMessage":"mod\u00e8le refus\u00e9 \ud83c\udfa8","seed":1000,"ratio":0.5,"list":[7,-30],"ok":true,"none":null}}`},
		{scenario.FormatDecimal, `{"eventId":"evt_1","data":{"errorMessage":"modèle refusé 🎨","seed":1000.0,"ratio":0.5,"list":[7.0,-30.0],"ok":true,"none":null}}`},
		{scenario.FormatExponent, `{"eventId":"evt_1","data":{"errorMessage":"modèle refusé 🎨","seed":1e+03,"ratio":0.5,"list":[7e+00,-3e+01],"ok":true,"none":null}}`},
		{scenario.FormatReversed, `{"data":{"none":null,"ok":true,"list":[7,-30],"ratio":0.5,"seed":1000,"errorMessage":"modèle refusé 🎨"},"eventId":"evt_1"}`},
		{scenario.FormatPretty, ""},
	} {
		got, err := reformat(body, tc.form)
		if err != nil {
			t.Fatalf("%s: %v", tc.form, err)
		}
		if tc.want != "" && string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.form, got, tc.want)
		}
		if bytes.Equal(got, body) {
			t.Errorf("%s: the bytes did not change", tc.form)
		}
		var a, b any
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &b); err != nil {
			t.Fatalf("%s: not JSON: %v", tc.form, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the value changed: %v", tc.form, b)
		}
	}
	if _, err := reformat(body, "sideways"); err == nil {
		t.Error("an unknown form was accepted")
	}
}
