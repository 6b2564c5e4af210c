package delivery

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness/signing"
)

// TestSignedAtPinsTheTimestampHeader: a literal signature made for one
// second must leave with that second in the scheme's timestamp header,
// even when the sender's clock has moved on (a check that builds its
// header just before a second ends). Before SignedAt, standard-webhooks'
// webhook-timestamp was read from the clock at sending, and a correct
// receiver refused SIG-13's valid signature now and then.
func TestSignedAtPinsTheTimestampHeader(t *testing.T) {
	t.Parallel()
	sc, err := signing.Builtin("standard-webhooks")
	if err != nil {
		t.Fatal(err)
	}
	srv, rc := serve(t, nil)
	// The clock is a second past the time the literal signature is for.
	s := newSender(t, srv.URL, WithScheme(sc), withClock(fixedClock(t0.Add(time.Second))))
	for _, pinned := range []bool{true, false} {
		a := s.Attempt(testEvent())
		literal := "v1,literal"
		a.Signature = &literal
		want := t0.Add(time.Second)
		if pinned {
			a.SignedAt, want = t0, t0
		}
		if ex := s.Send(context.Background(), a); ex.Status() != 200 {
			t.Fatalf("status %d: %s", ex.Status(), ex.Err)
		}
		reqs := rc.requests()
		got := reqs[len(reqs)-1].Header.Get(sc.TimestampHeader())
		if got != strconv.FormatInt(want.Unix(), 10) {
			t.Errorf("SignedAt %v: %s is %s, want %d", a.SignedAt, sc.TimestampHeader(), got, want.Unix())
		}
	}
}
