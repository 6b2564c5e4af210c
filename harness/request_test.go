package harness_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/realm-ai/hookcert/harness"
)

// TestKeptBodyStaysInMemory: the whole body kept for re-sending is not
// part of the evidence's JSON, which keeps reports small; read back, a
// request knows only its excerpt.
func TestKeptBodyStaysInMemory(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 10<<10)
	r := harness.Request{Method: "POST", Body: string(body[:4<<10]), BodySize: len(body)}
	r.KeepBody(body)
	if !bytes.Equal(r.Sent(), body) {
		t.Fatalf("Sent gives %d bytes, want the %d kept", len(r.Sent()), len(body))
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 5<<10 {
		t.Errorf("the request's JSON has %d bytes: the kept body was serialised", len(b))
	}
	var back harness.Request
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Sent(); len(got) != 4<<10 {
		t.Errorf("read back, Sent gives %d bytes, want the 4 KiB excerpt", len(got))
	}
}
