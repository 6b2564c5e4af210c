//go:build soak

package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The soak (make soak): `hookcert load` against the reference receiver,
// each in a process of its own, so that what is sampled of the generator
// is the generator's alone.
var (
	soakDuration = flag.Duration("soak.duration", 30*time.Minute, "how long the soak attacks (at least 3m)")
	soakRate     = flag.Int("soak.rate", 500, "new events per second")
	soakEvery    = flag.Duration("soak.every", 10*time.Second, "how often the generator is sampled")
	soakDir      = flag.String("soak.dir", "", "where the generator writes its reports (default: a temporary directory)")
)

// Judging the samples: the first minute is the generator's warm-up, the
// second is what the rest of the soak is held to.
const (
	soakWarmUp    = time.Minute
	soakWindow    = time.Minute
	soakMaxGrowth = 0.10
	// soakRuntimeEvery is how often the generator logs its heap and
	// goroutines: often, so that each row's figures are at most that old.
	soakRuntimeEvery = time.Second
	// soakAfter bounds what the generator does after the attack: the
	// retries' tail (the schedule and a sender timeout per retry), the
	// probe's account of the sample, the reports.
	soakAfter = 5 * time.Minute
)

// TestSoak attacks the reference receiver at -soak.rate for
// -soak.duration with retries on, samples the generator's resident set,
// live heap, goroutines and open files every -soak.every, and fails when
// one of them grew more than 10 % from the second minute to the last, or
// when the report's load figures disagree with the results file.
func TestSoak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the soak reads the generator's figures from /proc")
	}
	if *soakDuration < soakWarmUp+2*soakWindow {
		t.Fatalf("-soak.duration %s is too short: the first minute is warm-up, the second the baseline, and the last is judged against it; give at least %s",
			*soakDuration, soakWarmUp+2*soakWindow)
	}
	dir := *soakDir
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	life := *soakDuration + soakAfter
	secret := "whsec_soak_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ca := filepath.Join(dir, "receiver-ca.pem")
	webhook, probe := startReceiverFor(t, life+time.Minute, secret, "--tls", "--cert-out", ca)

	ctx, cancel := context.WithTimeout(context.Background(), life)
	defer cancel()
	logPath := filepath.Join(dir, "runtime.jsonl")
	_ = os.Remove(logPath)
	cmd := exec.CommandContext(ctx, binPath, "load", "--url", webhook, "--probe-url", probe, "--ca-cert", ca,
		"--rate", strconv.Itoa(*soakRate), "--duration", soakDuration.String(), "--max-duration", soakDuration.String(),
		"--retries", "3", "--report-dir", dir)
	cmd.Env = append(os.Environ(), "REALM_WEBHOOK_SECRET="+secret,
		runtimeLogEnv+"="+logPath, runtimeEveryEnv+"="+soakRuntimeEvery.String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Printf("soak: hookcert load at %d/s for %s against %s (receiver in another process), sampled every %s\n",
		*soakRate, *soakDuration, webhook, *soakEvery)
	samples := sampleGenerator(t, cmd.Process.Pid, logPath, exited, life)
	if ctx.Err() != nil {
		t.Fatalf("the generator did not end within %s:\n%s", life, out.String())
	}
	code := cmd.ProcessState.ExitCode()
	fmt.Printf("soak: the generator exited %d:\n%s", code, lastLines(out.String(), 8))
	if code != 0 && code != 1 {
		t.Fatalf("the run could not be made (exit %d)", code)
	}
	if grew := judgeFlat(samples, *soakDuration); len(grew) > 0 {
		t.Errorf("the generator's figures did not stay flat after the first minute:\n%s", strings.Join(grew, "\n"))
	}
	checkReportAgreesWithResults(t, dir)
}

// sampleGenerator samples process pid every -soak.every until it exits,
// printing each row as it is taken, at most life long.
func sampleGenerator(t *testing.T, pid int, logPath string, exited <-chan error, life time.Duration) []procSample {
	t.Helper()
	began := time.Now()
	tick := time.NewTicker(*soakEvery)
	defer tick.Stop()
	deadline := time.NewTimer(life)
	defer deadline.Stop()
	log := &tail{path: logPath}
	fmt.Printf("%8s  %10s  %10s  %10s  %5s\n", "time", "RSS", "heap", "goroutines", "fds")
	var samples []procSample
	for i := 0; i <= int(life / *soakEvery); i++ {
		select {
		case <-exited:
			return samples
		case <-deadline.C:
			return samples
		case now := <-tick.C:
			s := procSample{At: now.Sub(began)}
			var err error
			if s.RSS, err = statusField(pid, "VmRSS:"); err != nil {
				t.Logf("sample at %s: %v", s.At, err)
				continue
			}
			if s.FDs, err = openFiles(pid); err != nil {
				t.Logf("sample at %s: %v", s.At, err)
				continue
			}
			rt, ok := log.last()
			if !ok {
				t.Fatalf("the generator wrote no runtime log to %s", logPath)
			}
			s.HeapLive, s.Goroutines = rt.HeapLive, rt.Goroutines
			samples = append(samples, s)
			fmt.Printf("%8s  %10s  %10s  %10d  %5d\n", clock(s.At), mib(s.RSS), mib(s.HeapLive), s.Goroutines, s.FDs)
		}
	}
	return samples
}

// judgeFlat says which figures grew more than soakMaxGrowth from the
// second minute (its median) to the attack's last minute (its median);
// a count (goroutines, open files) must also have grown by more than one.
// Medians, so that one busy moment is not taken for growth.
func judgeFlat(samples []procSample, attack time.Duration) []string {
	in := func(from, to time.Duration) []procSample {
		return slices.DeleteFunc(slices.Clone(samples), func(s procSample) bool { return s.At < from || s.At >= to })
	}
	base, end := in(soakWarmUp, soakWarmUp+soakWindow), in(attack-soakWindow, attack)
	if len(base) == 0 || len(end) == 0 {
		return []string{fmt.Sprintf("too few samples to judge: %d in the second minute, %d in the last", len(base), len(end))}
	}
	figures := []struct {
		name  string
		of    func(procSample) uint64
		count bool
		show  func(uint64) string
	}{
		{"RSS", func(s procSample) uint64 { return s.RSS }, false, mib},
		{"heap", func(s procSample) uint64 { return s.HeapLive }, false, mib},
		{"goroutines", func(s procSample) uint64 { return s.Goroutines }, true, decimal},
		{"fds", func(s procSample) uint64 { return s.FDs }, true, decimal},
	}
	var grew []string
	for _, f := range figures {
		b, e := median(base, f.of), median(end, f.of)
		growth := float64(e)/float64(max(b, 1)) - 1
		fmt.Printf("soak: %-10s second minute %s, last minute %s: %+.1f %%\n", f.name, f.show(b), f.show(e), 100*growth)
		if growth > soakMaxGrowth && (!f.count || e > b+1) {
			grew = append(grew, fmt.Sprintf("%s grew %.1f %% (%s to %s), more than %.0f %%", f.name, 100*growth, f.show(b), f.show(e), 100*soakMaxGrowth))
		}
	}
	return grew
}

func median(ss []procSample, of func(procSample) uint64) uint64 {
	v := make([]uint64, len(ss))
	for i, s := range ss {
		v[i] = of(s)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
