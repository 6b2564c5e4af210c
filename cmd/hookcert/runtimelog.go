package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/metrics"
	"sync"
	"time"
)

// The runtime log: with HOOKCERT_RUNTIME_LOG naming a file, `hookcert
// load` and `hookcert capacity` append to it, every HOOKCERT_RUNTIME_EVERY
// (default 10 s), a JSON line of the generator's own Go heap and
// goroutines. A soak (make soak) reads the resident set and the open
// files of the process from /proc, but its heap and goroutines only the
// process itself knows. It is no setting of a run: nothing of it reaches
// the report.
const (
	runtimeLogEnv       = "HOOKCERT_RUNTIME_LOG"
	runtimeEveryEnv     = "HOOKCERT_RUNTIME_EVERY"
	defaultRuntimeEvery = 10 * time.Second
)

// runtimeSample is one line of the runtime log.
type runtimeSample struct {
	Time time.Time `json:"time"`
	// HeapLive is the heap the last collection found live: unlike the
	// heap in use, it does not rise and fall with each cycle's garbage.
	HeapLive uint64 `json:"heapLive"`
	// HeapObjects is the heap in use now, garbage not yet swept included.
	HeapObjects uint64 `json:"heapObjects"`
	Goroutines  uint64 `json:"goroutines"`
	GCCycles    uint64 `json:"gcCycles"`
}

// runtimeMetrics are the runtime/metrics names of runtimeSample's figures,
// in the order sampleRuntime reads them. runtime/metrics, unlike
// runtime.ReadMemStats, does not stop the world.
var runtimeMetrics = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/sched/goroutines:goroutines",
	"/gc/cycles/total:gc-cycles",
}

// sampleRuntime reads the process's figures now.
func sampleRuntime() runtimeSample {
	s := make([]metrics.Sample, len(runtimeMetrics))
	for i, name := range runtimeMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return runtimeSample{Time: time.Now(), HeapLive: v(0), HeapObjects: v(1), Goroutines: v(2), GCCycles: v(3)}
}

// startRuntimeLog starts the runtime log when the environment asks for it:
// a line at once, one every interval, and a last one when stop is called.
// A file that cannot be written only costs the log, never the run: it is
// said on stderr.
func startRuntimeLog(e env) (stop func()) {
	path := e.getenv(runtimeLogEnv)
	if path == "" {
		return func() {}
	}
	every := defaultRuntimeEvery
	if v := e.getenv(runtimeEveryEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fmt.Fprintf(e.stderr, "hookcert: %s=%q is not a positive duration: logging every %s\n", runtimeEveryEnv, v, every)
		} else {
			every = d
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(e.stderr, "hookcert: %s: %v: no runtime log\n", runtimeLogEnv, err)
		return func() {}
	}
	var failed sync.Once
	write := func() {
		b, _ := json.Marshal(sampleRuntime())
		if _, err := f.Write(append(b, '\n')); err != nil {
			failed.Do(func() { fmt.Fprintf(e.stderr, "hookcert: %s: %v\n", runtimeLogEnv, err) })
		}
	}
	write()
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				write()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		write()
		f.Close()
	}
}
