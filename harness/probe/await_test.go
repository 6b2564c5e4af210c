package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"testing/synctest"
	"time"
)

// The periods of the Await tests. They run in a synctest bubble, so the
// periods cost no wall time and each wait ends exactly when it should.
const (
	testSettle   = 3 * time.Second
	testWatch    = 400 * time.Millisecond
	testInterval = 20 * time.Millisecond
)

func awaitClient(t *testing.T, url string, opts ...Option) *Client {
	t.Helper()
	return newClient(t, url, append([]Option{WithSettle(testSettle), WithWatch(testWatch), withInterval(testInterval)}, opts...)...)
}

// The fake workers of these tables act between two polls (every
// testInterval from the start), never at the instant of one, so which
// poll sees them is certain.
func TestAwaitEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		why     string
		want    int
		arrange func(fp *fakeProbe)
		// wantCount is the count AwaitEvent must report.
		wantCount int
		wantFound bool
		// took is how long AwaitEvent must take: until the poll that
		// sees the count, then the watch.
		took time.Duration
	}{
		{"asynchronous processing after a delay is awaited", 1, func(fp *fakeProbe) {
			fp.after(150*time.Millisecond, func() { fp.events["evt_a"]++ })
		}, 1, true, 160*time.Millisecond + testWatch},
		{"a late second processing during the watch is caught", 1, func(fp *fakeProbe) {
			fp.after(50*time.Millisecond, func() { fp.events["evt_a"]++ })
			fp.after(50*time.Millisecond+testWatch/3, func() { fp.events["evt_a"]++ })
		}, 2, true, 60*time.Millisecond + testWatch},
		{"already processed: no settling, just the watch", 1, func(fp *fakeProbe) {
			fp.set(func() { fp.events["evt_a"] = 1 })
		}, 1, true, testWatch},
		{"awaiting several processings (IDEM-05 style)", 3, func(fp *fakeProbe) {
			for i := range 3 {
				fp.after(time.Duration(i+1)*65*time.Millisecond, func() { fp.events["evt_a"]++ })
			}
		}, 3, true, 200*time.Millisecond + testWatch},
		{"never processed: gives up when the settle time ends", 1, func(fp *fakeProbe) {}, 0, false, 500 * time.Millisecond},
		{"want 0 and nothing happens: the watch plus grace", 0, func(fp *fakeProbe) {}, 0, false, testWatch + zeroGrace},
		{"want 0 but a rejected delivery is processed late: seen", 0, func(fp *fakeProbe) {
			fp.after(testWatch/2+time.Millisecond, func() { fp.events["evt_a"]++ })
		}, 1, true, testWatch + zeroGrace},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				fp, hc := newMemoryProbe(t)
				settle := testSettle
				if !tt.wantFound && tt.want > 0 {
					settle = 500 * time.Millisecond
				}
				c := awaitClient(t, memoryURL, WithSettle(settle), WithHTTPClient(hc))
				start := time.Now()
				tt.arrange(fp)
				st, exs, err := c.AwaitEvent(t.Context(), "evt_a", tt.want)
				if err != nil {
					t.Fatalf("AwaitEvent error = %v", err)
				}
				if st.TimesProcessed != tt.wantCount || st.Found != tt.wantFound || st.EventID != "evt_a" {
					t.Errorf("AwaitEvent = %+v, want count %d found %v", st, tt.wantCount, tt.wantFound)
				}
				if took := time.Since(start); took != tt.took {
					t.Errorf("returned after %s, want %s", took, tt.took)
				}
				if len(exs) == 0 || len(exs) > evidenceCap {
					t.Errorf("%d exchanges of evidence, want 1..%d", len(exs), evidenceCap)
				}
				if tt.wantFound {
					if last := exs[len(exs)-1]; last.Status() != 200 {
						t.Errorf("the last evidence is status %d, want the final 200", last.Status())
					}
				}
			})
		})
	}
}

func TestAwaitJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		why     string
		want    string
		arrange func(fp *fakeProbe)
		settle  time.Duration
		wantSt  JobState
		// took is how long AwaitJob must take.
		took time.Duration
	}{
		{"the expected state arrives after a delay", "completed", func(fp *fakeProbe) {
			fp.set(func() { fp.jobs["job_a"] = "processing" })
			fp.after(150*time.Millisecond, func() { fp.jobs["job_a"] = "completed" })
		}, testSettle, JobState{"job_a", "completed", true}, 160*time.Millisecond + testWatch},
		{"a late event overwrites the state during the watch (ORD-02)", "completed", func(fp *fakeProbe) {
			fp.set(func() { fp.jobs["job_a"] = "completed" })
			fp.after(testWatch/3, func() { fp.jobs["job_a"] = "processing" })
		}, testSettle, JobState{"job_a", "processing", true}, testWatch},
		{"the state never comes: the last one is returned", "failed", func(fp *fakeProbe) {
			fp.set(func() { fp.jobs["job_a"] = "queued" })
		}, 300 * time.Millisecond, JobState{"job_a", "queued", true}, 300 * time.Millisecond},
		{"an unknown job stays not found", "completed", func(fp *fakeProbe) {}, 300 * time.Millisecond, JobState{"job_a", "", false}, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				fp, hc := newMemoryProbe(t)
				c := awaitClient(t, memoryURL, WithSettle(tt.settle), WithHTTPClient(hc))
				start := time.Now()
				tt.arrange(fp)
				st, exs, err := c.AwaitJob(t.Context(), "job_a", tt.want)
				if err != nil {
					t.Fatalf("AwaitJob error = %v", err)
				}
				if st != tt.wantSt {
					t.Errorf("AwaitJob = %+v, want %+v", st, tt.wantSt)
				}
				if took := time.Since(start); took != tt.took {
					t.Errorf("returned after %s, want %s", took, tt.took)
				}
				if len(exs) == 0 || len(exs) > evidenceCap {
					t.Errorf("%d exchanges of evidence, want 1..%d", len(exs), evidenceCap)
				}
			})
		})
	}
}

func TestAwaitevidenceCapped(t *testing.T) {
	t.Parallel()
	fp, srv := newFakeProbe(t)
	// The count climbs on every call: every poll is a change.
	fp.set(func() {
		fp.answer = func(w http.ResponseWriter, r *http.Request) {
			fp.mu.Lock()
			fp.events["evt_a"]++
			n := fp.events["evt_a"]
			fp.mu.Unlock()
			fmt.Fprintf(w, `{"eventId":"evt_a","timesProcessed":%d}`, n)
		}
	})
	c := awaitClient(t, srv.URL)
	st, exs, err := c.AwaitEvent(context.Background(), "evt_a", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != evidenceCap {
		t.Fatalf("%d exchanges, want the cap %d", len(exs), evidenceCap)
	}
	if first := exs[0].Response.Body; first != `{"eventId":"evt_a","timesProcessed":1}` {
		t.Errorf("first evidence %s, want the first poll", first)
	}
	if st.TimesProcessed < evidenceCap {
		t.Errorf("count %d: the watch polled fewer times than the cap, the test proves nothing", st.TimesProcessed)
	}
	if last := exs[len(exs)-1].Response.Body; last != `{"eventId":"evt_a","timesProcessed":`+strconv.Itoa(st.TimesProcessed)+`}` {
		t.Errorf("last evidence %s, want the final poll (count %d)", last, st.TimesProcessed)
	}
}

func TestAwaitStopsOnProbeErrorAndCancel(t *testing.T) {
	t.Parallel()
	t.Run("a failing probe ends the wait with its error", func(t *testing.T) {
		fp, srv := newFakeProbe(t)
		fp.set(func() { fp.answer = fixed(500, "") })
		c := awaitClient(t, srv.URL)
		start := time.Now()
		_, exs, err := c.AwaitEvent(context.Background(), "evt_a", 1)
		if !errors.Is(err, ErrProbe) || len(exs) != 1 {
			t.Errorf("error %v with %d exchanges, want ErrProbe after one", err, len(exs))
		}
		if time.Since(start) > testSettle {
			t.Errorf("kept polling a broken probe")
		}
	})
	t.Run("cancellation ends the wait", func(t *testing.T) {
		_, srv := newFakeProbe(t)
		c := awaitClient(t, srv.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err := c.AwaitJob(ctx, "job_a", "completed")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want the context's", err)
		}
		if d := time.Since(start); d > testSettle {
			t.Errorf("took %s after the context ended", d)
		}
	})
}
