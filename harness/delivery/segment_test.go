package delivery

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// seeded returns a fixed random source, so that a failure can be replayed.
func seeded() segmentSource { return rand.New(rand.NewPCG(1, 2)) }

// cuts returns the widths of the characters the plan's boundaries fall
// inside, counted, and the widths of its forced cuts.
func (seg segmentation) cuts() (all, forced map[int]int) {
	all, forced = map[int]int{}, map[int]int{}
	for _, s := range seg.segs {
		if w := cutWidth(seg.body, s.end); w > 0 {
			all[w]++
			if s.forced {
				forced[w]++
			}
		}
	}
	return all, forced
}

// TestPlanSegments: a plan covers the body exactly, in segments of
// 1–1.5 KiB up to 256 KiB and the rest in one piece, with pauses of
// 0.2–1 ms; with SplitRunes its boundaries fall inside characters, the
// first of each width always, however short the body.
func TestPlanSegments(t *testing.T) {
	t.Parallel()
	short := []byte(`{"eventId":"evt_1","data":{"name":"café","price":"5 €","clef":"𝄞"}}`)
	tests := []struct {
		why              string
		body             []byte
		whole, splitRune bool
		// segments bounds the number of segments; paced is where they end.
		minSegs, maxSegs int
		paced            int
		// cutWidths are the widths that must be cut, each by one forced
		// boundary exactly; manyCuts asks most boundaries to be cuts.
		cutWidths []int
		manyCuts  bool
	}{
		{why: "an empty body has no segments", body: nil, paced: 0},
		{why: "a body shorter than a segment goes in one", body: asciiBody(348), minSegs: 1, maxSegs: 1, paced: 348},
		{why: "a 100 KiB event goes in segments of 1–1.5 KiB", body: asciiBody(100 << 10), minSegs: 67, maxSegs: 100, paced: 100 << 10},
		{why: "past 256 KiB the rest of a 5 MiB body goes in one piece", body: asciiBody(5 << 20), minSegs: 171, maxSegs: 256, paced: pacedBytes},
		{why: "Whole has no segments at all", body: asciiBody(100 << 10), whole: true, paced: 0},
		{why: "Whole wins over SplitRunes", body: mixedBody(4 << 10), whole: true, splitRune: true, paced: 0},
		{why: "SplitRunes cuts the first character of each width in a short body (SIG-10)", body: short, splitRune: true, minSegs: 4, maxSegs: 4, paced: len(short), cutWidths: []int{2, 3, 4}},
		{why: "SplitRunes cuts near every boundary of multi-byte text (ACK-09)", body: mixedBody(24 << 10), splitRune: true, minSegs: 16, maxSegs: 26, paced: len(mixedBody(24 << 10)), cutWidths: []int{2, 3, 4}, manyCuts: true},
		{why: "SplitRunes leaves ASCII as it is", body: asciiBody(10 << 10), splitRune: true, minSegs: 7, maxSegs: 10, paced: 10 << 10},
		{why: "SplitRunes cuts only valid characters", body: bytes.Repeat([]byte{0xff, 'a', 0xc3}, 1000), splitRune: true, minSegs: 2, maxSegs: 3, paced: 3000},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			seg := planSegments(tt.body, tt.whole, tt.splitRune, seeded())
			if n := len(seg.segs); n < tt.minSegs || n > tt.maxSegs {
				t.Errorf("%d segments, want %d to %d", n, tt.minSegs, tt.maxSegs)
			}
			if seg.paced() != tt.paced {
				t.Errorf("the segments end at %d, want %d", seg.paced(), tt.paced)
			}
			from := 0
			for i, s := range seg.segs {
				size := s.end - from
				switch {
				case size <= 0 || size > segMax:
					t.Errorf("segment %d has %d bytes, want 1 to %d", i, size, segMax)
				case size < segMin && i < len(seg.segs)-1 && !tt.splitRune:
					t.Errorf("segment %d has %d bytes, want %d at least", i, size, segMin)
				case s.pause < pauseMin || s.pause > pauseMax:
					t.Errorf("the pause after segment %d is %s, want %s to %s", i, s.pause, pauseMin, pauseMax)
				}
				from = s.end
			}
			all, forced := seg.cuts()
			for _, w := range tt.cutWidths {
				if forced[w] != 1 {
					t.Errorf("%d forced cuts of %d-byte characters, want 1", forced[w], w)
				}
			}
			if !tt.splitRune && len(forced) > 0 {
				t.Errorf("forced cuts %v without SplitRunes", forced)
			}
			if n := all[2] + all[3] + all[4]; tt.manyCuts && n < len(seg.segs)*3/4 {
				t.Errorf("%d of %d boundaries fall inside a character, want most", n, len(seg.segs))
			}
		})
	}
}

// fakePace drives an upload to its end on a fake clock whose pauses take
// at least grain, as the runtime's timers do, and each write step, and
// returns the boundaries it paused at and the time the upload took.
func fakePace(t *testing.T, seg segmentation, grain, step time.Duration) (paused map[int]bool, took time.Duration) {
	t.Helper()
	now := time.Unix(0, 0)
	u := seg.upload(context.Background())
	paused = map[int]bool{}
	u.now = func() time.Time { return now }
	u.wait = func(d time.Duration) error {
		paused[u.i-1] = true
		now = now.Add(max(d, grain))
		return nil
	}
	var got []byte
	for {
		b, err := u.next(32 << 10)
		got = append(got, b...)
		now = now.Add(step)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, seg.body) {
		t.Fatalf("the upload handed out %d bytes that are not the body's %d", len(got), len(seg.body))
	}
	if u.pauses != len(paused) {
		t.Errorf("the upload counts %d pauses, made %d", u.pauses, len(paused))
	}
	return paused, now.Sub(time.Unix(0, 0))
}

// TestPacing: on timers as precise as asked, and on an idle Linux
// machine's, whose pauses last a millisecond at least, a body of up to
// 100 KiB pauses at every boundary and a 250 KiB one within the budget at
// every other one at least; a stalled machine stops pausing at
// paceLimit; and the first cut of each width is always paused. The clock
// is fake: the rules, not the machine, are under test.
func TestPacing(t *testing.T) {
	t.Parallel()
	const step = 10 * time.Microsecond // a write on loopback
	tests := []struct {
		why         string
		seg         segmentation
		grain       time.Duration
		every       bool          // every boundary pauses
		alternate   bool          // no two boundaries in a row go without one
		maxTook     time.Duration // the upload's time at most
		forcedPause bool          // every forced boundary pauses
	}{
		{"a 100 KiB body on precise timers pauses everywhere", planSegments(asciiBody(100<<10), false, false, seeded()), 0, true, true, paceBudget, false},
		{"a 100 KiB body on an idle Linux machine pauses everywhere", planSegments(asciiBody(100<<10), false, false, seeded()), 1100 * time.Microsecond, true, true, paceBudget, false},
		{"a 250 KiB body on an idle Linux machine keeps near the budget", planSegments(asciiBody(250<<10), false, false, seeded()), 1100 * time.Microsecond, false, true, paceBudget + 25*time.Millisecond, false},
		{"a 5 MiB body pauses as a 256 KiB one, then sends the rest at once", planSegments(asciiBody(5<<20), false, false, seeded()), 1100 * time.Microsecond, false, true, paceBudget + 25*time.Millisecond, false},
		{"a stalled machine stops pausing at paceLimit", planSegments(asciiBody(250<<10), false, false, seeded()), 20 * time.Millisecond, false, false, paceLimit + 20*time.Millisecond + 250*step, false},
		{"the first cut of each width pauses even past paceLimit", planSegments(append(asciiBody(200<<10), mixedBody(2<<10)...), false, true, seeded()), 20 * time.Millisecond, false, false, paceLimit + 20*time.Millisecond + 3*cutPause + 200*step, true},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			paused, took := fakePace(t, tt.seg, tt.grain, step)
			n := tt.seg.boundaries()
			for b := range n {
				switch {
				case tt.every && !paused[b]:
					t.Errorf("boundary %d of %d went without a pause", b, n)
				case tt.alternate && b > 0 && !paused[b] && !paused[b-1]:
					t.Errorf("boundaries %d and %d both went without a pause", b-1, b)
				case tt.forcedPause && tt.seg.segs[b].forced && !paused[b]:
					t.Errorf("forced boundary %d went without a pause", b)
				}
			}
			if took > tt.maxTook {
				t.Errorf("the upload took %s, want %s at most", took, tt.maxTook)
			}
			t.Logf("%d of %d boundaries paused; %s", len(paused), n, took)
		})
	}
}

// TestSegmentsEvidence: the evidence says how the body went, in what the
// upload really did: segments begun, pauses made, the rest in one piece,
// the cuts inside characters, the upload's time and when its last byte
// left, or how much of the body was sent when the attempt ended first.
func TestSegmentsEvidence(t *testing.T) {
	t.Parallel()
	mixed := []byte(`{"name":"café","price":"5 €","clef":"𝄞"}`)
	tests := []struct {
		why  string
		body []byte
		// whole and splitRunes plan the body, from a fixed seed; stop, if
		// positive, ends the upload once that much of the body is out;
		// none leaves it unread.
		whole, splitRunes bool
		stop              int
		none              bool
		want              string
	}{
		{why: "no body, nothing to say", body: nil, want: ""},
		{why: "Whole", body: asciiBody(100 << 10), whole: true, want: "102400 bytes in one piece: segmentation off for this attempt"},
		{why: "one segment, which net/http writes with the headers", body: asciiBody(348), none: true, want: "348 bytes in one segment, written with the headers"},
		{why: "one segment, written by the sender (HTTP/2, abandoned)", body: asciiBody(348), want: "348 bytes in one segment, its last byte sent 2ms after the start"},
		{why: "a 100 KiB event", body: asciiBody(100 << 10), want: "102400 bytes in 78 segments of at most 1.5 KiB with 77 pauses; sent in 47.2ms, the last byte 49.2ms after the start"},
		{why: "5 MiB, the rest in one piece", body: asciiBody(5 << 20), want: "5242880 bytes in 204 segments of at most 1.5 KiB with 159 pauses, then 4980736 in one piece; sent in 104.9ms, the last byte 106.9ms after the start"},
		{why: "cuts inside characters", body: mixed, splitRunes: true, want: "46 bytes in 4 segments of at most 1.5 KiB with 3 pauses; sent in 150ms, the last byte 152ms after the start; 3 segments end inside a character (1 of 2 bytes, 1 of 3 bytes, 1 of 4 bytes)"},
		{why: "an attempt that ended during the upload", body: asciiBody(100 << 10), stop: 40 << 10, want: "41177 of 102400 bytes (the attempt ended first) in 31 segments of at most 1.5 KiB with 30 pauses; sent in 18ms, the last byte 20ms after the start"},
		{why: "an attempt that ended before the body", body: asciiBody(100 << 10), none: true, want: "none of the 102400 bytes sent: the attempt ended first"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			start := time.Unix(0, 0)
			now := start.Add(2 * time.Millisecond) // dial and headers
			u := planSegments(tt.body, tt.whole, tt.splitRunes, seeded()).upload(context.Background())
			u.now = func() time.Time { return now }
			u.wait = func(d time.Duration) error { now = now.Add(d); return nil }
			for !tt.none && !tt.whole {
				b, err := u.next(64 << 10)
				if err != nil || (tt.stop > 0 && u.off >= tt.stop) {
					break
				}
				// One piece of the rest, or a segment, takes as long.
				now = now.Add(time.Duration(len(b)) * time.Microsecond / 1000)
			}
			if got := u.describe(start); got != tt.want {
				t.Errorf("describe:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestUploadEndsWithItsAttempt: a pause under way ends when the attempt's
// context ends or the transport closes the body, and a closed body hands
// out nothing more, so that an upload never outlives its attempt.
func TestUploadEndsWithItsAttempt(t *testing.T) {
	t.Parallel()
	seg := planSegments(asciiBody(10<<10), false, false, seeded())
	for _, tc := range []struct {
		why  string
		end  func(context.CancelFunc, *upload)
		want error
	}{
		{"the attempt's context ends", func(cancel context.CancelFunc, _ *upload) { cancel() }, context.Canceled},
		{"the transport closes the body", func(_ context.CancelFunc, u *upload) { u.Close() }, errBodyClosed},
	} {
		t.Run(tc.why, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			u := seg.upload(ctx)
			u.seg.segs[0].pause = time.Hour
			u.seg.segs[0].forced = true
			if _, err := u.next(64 << 10); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := u.next(64 << 10)
				done <- err
			}()
			tc.end(cancel, u)
			select {
			case err := <-done:
				if err != tc.want {
					t.Errorf("the paused read returned %v, want %v", err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the pause outlived the attempt")
			}
		})
	}
}

// TestCutWidth: a boundary is inside a character only when the bytes
// around it are one valid multi-byte character.
func TestCutWidth(t *testing.T) {
	t.Parallel()
	body := []byte("aé€𝄞\xe2\x82")
	tests := []struct {
		at, want int
	}{
		{0, 0}, {1, 0}, {2, 2}, {3, 0}, {4, 3}, {5, 3}, {6, 0}, {7, 4}, {8, 4}, {9, 4}, {10, 0},
		// A truncated character is not one.
		{11, 0}, {12, 0},
	}
	for _, tt := range tests {
		if got := cutWidth(body, tt.at); got != tt.want {
			t.Errorf("cutWidth(%q, %d) = %d, want %d", body, tt.at, got, tt.want)
		}
	}
}
