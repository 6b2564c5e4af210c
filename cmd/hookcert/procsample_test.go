//go:build soak || limits

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// What the soak and the limits tests read of a generator from outside its
// process: /proc for its memory and files, its runtime log for its heap
// and goroutines.

// procSample is what is read of a generator at one moment: a row of the
// soak's table.
type procSample struct {
	At         time.Duration
	RSS        uint64
	HeapLive   uint64
	Goroutines uint64
	FDs        uint64
}

// statusField reads a field in kB of /proc/PID/status (VmRSS, VmHWM),
// in bytes.
func statusField(pid int, field string) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// openFiles counts the open file descriptors of process pid.
func openFiles(pid int) (uint64, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return uint64(len(ents)), err
}

// tail reads the runtime log as it grows and keeps its last line.
type tail struct {
	path   string
	offset int64
	rest   []byte
	latest runtimeSample
	seen   bool
}

// last returns the newest complete line of the log.
func (l *tail) last() (runtimeSample, bool) {
	f, err := os.Open(l.path)
	if err != nil {
		return l.latest, l.seen
	}
	defer f.Close()
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return l.latest, l.seen
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	l.offset += int64(len(b))
	b = append(l.rest, b...)
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		l.rest = b
		return l.latest, l.seen
	}
	l.rest = slices.Clone(b[i+1:])
	lines := bytes.Split(b[:i], []byte("\n"))
	var s runtimeSample
	if err := json.Unmarshal(lines[len(lines)-1], &s); err == nil {
		l.latest, l.seen = s, true
	}
	return l.latest, l.seen
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func decimal(v uint64) string { return strconv.FormatUint(v, 10) }
