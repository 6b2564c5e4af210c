//go:build image

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// The image tests build the container image with make image and run it as
// CI and Kubernetes would. make image-test runs them (go test -tags image,
// the engine and the image named by the flags below); make test does not.
var (
	imageFlag     = flag.String("image", "hookcert:image-test", "the image make image builds and the tests run (make image-test passes IMAGE)")
	containerFlag = flag.String("container", "", "the container engine, docker or podman (make image-test passes CONTAINER)")
	podmanFlag    = flag.String("podman-flags", "", "podman's own flags for build and run (make image-test passes PODMAN_FLAGS)")
)

// Limits of DESIGN section 11 and of the brief for a first verdict.
const (
	maxImageBytes = 25_000_000
	maxFirstRun   = 20 * time.Second
)

// engine is the container engine the image is built and run with.
type engine struct {
	cmd   string   // docker or podman
	image string   // the image's tag
	extra []string // PODMAN_FLAGS, given to podman build and podman run only
}

func newEngine(t *testing.T) engine {
	t.Helper()
	if *containerFlag == "" {
		t.Fatal("no container engine named: run make image-test, or go test -tags image ./cmd/hookcert -args -container=podman")
	}
	if _, err := exec.LookPath(*containerFlag); err != nil {
		t.Fatalf("the container engine %s is not installed: %v", *containerFlag, err)
	}
	e := engine{cmd: *containerFlag, image: *imageFlag}
	if filepath.Base(e.cmd) == "podman" {
		e.extra = strings.Fields(*podmanFlag)
	}
	return e
}

// containers numbers the containers the tests start, for their names.
var containers atomic.Int64

// run starts a container of args (the engine's run options, then the
// image and its arguments) with env added to the engine's own
// environment, waits for it to exit and returns what it printed and how
// long it ran, from the engine's start to its exit. It calls no t method,
// so that pods run at once from goroutines.
func (e engine) run(env []string, args ...string) (result, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	name := fmt.Sprintf("hookcert-image-test-%d-%d", os.Getpid(), containers.Add(1))
	full := append(append([]string{"run", "--rm", "--name", name}, e.extra...), args...)
	cmd := exec.CommandContext(ctx, e.cmd, full...)
	// The engine hands SIGTERM on to the container: hookcert stops and
	// still writes its reports.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
		errb.WriteString("\n" + err.Error())
	}
	if ctx.Err() != nil {
		// A container the engine did not stop must not outlive the test.
		_ = exec.Command(e.cmd, "rm", "-f", name).Run()
		errb.WriteString("\nthe container did not exit within 3 minutes")
	}
	return result{out.String(), errb.String(), code}, took
}

// inspect returns a field of the image's configuration, in the engine's
// Go template format.
func (e engine) inspect(t *testing.T, format string) string {
	t.Helper()
	out, err := exec.Command(e.cmd, "image", "inspect", "--format", format, e.image).Output()
	if err != nil {
		t.Fatalf("%s image inspect %s: %v", e.cmd, e.image, err)
	}
	return strings.TrimSpace(string(out))
}

// sharedDir returns a temporary directory for the container's user (uid
// 65532) to write into, as a chmod or a Kubernetes fsGroup makes a volume
// writable: the engine mounts it as it is, owned by whoever runs the
// tests. Rootful engines leave files owned by uid 65532, which the tests
// remove as root; rootless podman leaves them to a sub-uid, which only its
// user namespace can remove.
func (e engine) sharedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if filepath.Base(e.cmd) == "podman" && os.Geteuid() != 0 {
		t.Cleanup(func() { _ = exec.Command(e.cmd, "unshare", "rm", "-rf", "--", dir).Run() })
	}
	return dir
}

// TestImage builds the image with make image and runs it: what it holds,
// a first verdict from the container against a receiver on the host over
// HTTPS with a private CA, a faulty receiver failed from it, and the
// README's Kubernetes manifests, each pod's container spec run by the
// engine.
func TestImage(t *testing.T) {
	e := newEngine(t)
	start := time.Now()
	code, out := makeTarget(t, "image", "IMAGE="+e.image, "CONTAINER="+e.cmd, "PODMAN_FLAGS="+*podmanFlag)
	if code != 0 {
		t.Fatalf("make image: exit %d\n%s", code, out)
	}
	t.Logf("make image: %.1f s", time.Since(start).Seconds())

	t.Run("contents", func(t *testing.T) { imageContents(t, e) })
	t.Run("first verdict", func(t *testing.T) { imageFirstVerdict(t, e) })
	t.Run("a faulty receiver", func(t *testing.T) {
		t.Parallel()
		const secret = "whsec_image_faulty"
		webhook, probe := startReceiver(t, secret, "--fault", "double-process")
		// No volume: the reports go to the image's own /reports.
		r, took := e.run([]string{harness.SecretEnv + "=" + secret}, "--network", "host", "-e", harness.SecretEnv,
			e.image, "conformance", "--url", webhook, "--probe-url", probe)
		t.Logf("double-process certified from the container: exit %d in %.1f s", r.code, took.Seconds())
		if r.code != 1 || !strings.Contains(r.stdout, "verdict: NOT COMPLIANT (exit 1)") {
			t.Fatalf("exit %d, want 1 and NOT COMPLIANT\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("kubernetes", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			why   string
			fault []string
			code  int
		}{
			{"a receiver that answers 503 to every tenth first delivery fails LOAD-02 in the merge", []string{"--fault", "flaky"}, exitFailed},
			{"a correct receiver passes the merge", nil, exitOK},
		} {
			t.Run(tc.why, func(t *testing.T) {
				t.Parallel()
				imageKubernetes(t, e, tc.fault, tc.code)
			})
		}
	})
}

// imageContents checks what DESIGN section 11 asks of the image: at most
// 25 MB, a non-root numeric user, hookcert as the entrypoint, /reports its
// writable working directory, and no shell.
func imageContents(t *testing.T, e engine) {
	size, err := strconv.ParseInt(e.inspect(t, "{{.Size}}"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes (%.1f MB)", e.image, size, float64(size)/1e6)
	if size > maxImageBytes {
		t.Errorf("the image is %d bytes, over %d", size, maxImageBytes)
	}
	var cfg struct {
		User       string
		Env        []string
		Entrypoint []string
		WorkingDir string
	}
	if err := json.Unmarshal([]byte(e.inspect(t, "{{json .Config}}")), &cfg); err != nil {
		t.Fatal(err)
	}
	uid, gid, _ := strings.Cut(cfg.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("the image's user is %q, want a numeric non-root uid (Kubernetes' runAsNonRoot verifies only a number)", cfg.User)
	}
	if _, err := strconv.Atoi(gid); err != nil {
		t.Errorf("the image's group is %q, want a number", gid)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/hookcert"}) || cfg.WorkingDir != "/reports" || !slices.Contains(cfg.Env, "HOOKCERT_REPORT_DIR=/reports") {
		t.Errorf("entrypoint %q, working directory %q, environment %q; want /hookcert, /reports and HOOKCERT_REPORT_DIR=/reports",
			cfg.Entrypoint, cfg.WorkingDir, cfg.Env)
	}

	if r, _ := e.run(nil, e.image, "version"); r.code != 0 || r.stdout != "hookcert "+harness.Version+"\n" {
		t.Fatalf("hookcert version in the image: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r, _ := e.run(nil, "--entrypoint", "/bin/sh", e.image, "-c", "true"); r.code == 0 {
		t.Errorf("the image has a shell: /bin/sh -c true exited 0")
	}
	// A run that cannot be made still writes its reports: into /reports,
	// which the image's user owns.
	r, _ := e.run([]string{harness.SecretEnv + "=s"}, "--network", "none", "-e", harness.SecretEnv,
		e.image, "conformance", "--url", "http://127.0.0.1:1/webhook")
	if r.code != 2 || !strings.Contains(r.stdout, "reports: /reports/index.html, /reports/junit.xml, /reports/report.json") {
		t.Errorf("an unreachable receiver: exit %d, want 2 and the reports written into /reports\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// imageFirstVerdict certifies a receiver on the host over HTTPS, its
// certificate from a private CA mounted into the container, with the
// defaults a user starts with, and times the run from the container's
// start to its exit.
func imageFirstVerdict(t *testing.T, e engine) {
	const secret = "whsec_image_first_verdict"
	ca := filepath.Join(t.TempDir(), "ca.pem")
	webhook, probe := startReceiver(t, secret, "--tls", "--cert-out", ca)
	dir := e.sharedDir(t)
	r, took := e.run([]string{harness.SecretEnv + "=" + secret},
		"--network", "host", "-e", harness.SecretEnv, "-v", dir+":/reports", "-v", ca+":/ca.pem:ro",
		e.image, "conformance", "--url", webhook, "--probe-url", probe, "--ca-cert", "/ca.pem", "--report-dir", "/reports")
	t.Logf("first verdict: %.1f s from starting the container to its exit (at most %s)", took.Seconds(), maxFirstRun)
	if r.code != 0 || !strings.Contains(r.stdout, "verdict: COMPLIANT (exit 0)") {
		t.Fatalf("exit %d, want 0 and COMPLIANT\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if took > maxFirstRun {
		t.Errorf("the first verdict took %s, over %s", took, maxFirstRun)
	}
	rep := reportIn(t, dir)
	if rep.ExitCode != exitOK || rep.Counts[harness.Skip] != 0 || rep.Overall != harness.Compliant {
		t.Errorf("report.json: exit code %d, counts %v, overall %q; want COMPLIANT with nothing skipped", rep.ExitCode, rep.Counts, rep.Overall)
	}
	// The TLS checks ran, trusting the private CA from /ca.pem; TLS-04
	// only reports what was negotiated.
	for id, want := range map[string]harness.Verdict{"TLS-01": harness.Pass, "TLS-02": harness.Pass, "TLS-03": harness.Pass, "TLS-04": harness.InfoVerdict} {
		if r := rep.Result(id); r == nil || r.Verdict != want {
			t.Errorf("%s is %+v, want %s", id, r, want)
		}
	}
	for _, f := range []string{"report.json", "junit.xml", "index.html"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s on the host: %v (%d bytes)", f, err, len(b))
		}
		if strings.Contains(string(b), secret) {
			t.Errorf("%s holds the secret", f)
		}
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("the container printed the secret")
	}
}

// reportIn reads the report.json a container wrote into dir.
func reportIn(t *testing.T, dir string) *report.Report {
	t.Helper()
	r, err := report.Read(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The pods run of the README's generators' Job, of its four: three at
// once, as parallelism runs them, against a loopback receiver at a rate
// and for a time short enough for a test.
const (
	testPods     = 3
	testRate     = "20"
	testDuration = "2s"
)

// imageKubernetes runs the README's Kubernetes manifests with the engine:
// the generators' container spec once per index, all at once, then the
// merge's, against a receiver on the host (with fault, if any), sharing
// one directory as their volume. Each generator exits 0 whatever its
// receiver's verdict; the merge exits with the verdict of the whole, want.
func imageKubernetes(t *testing.T, e engine, fault []string, want int) {
	const secret, token = "whsec_image_kubernetes", "probe_token_image_kubernetes"
	webhook, probe := startReceiver(t, secret, append([]string{"--probe-token", token}, fault...)...)
	gen, merge := readmeJobs(t)
	pod := podRunner{
		engine:  e,
		volumes: map[string]string{"results": e.sharedDir(t)},
		secrets: map[string]string{"webhook-secret": secret, "probe-token": token},
	}
	results := pod.volumes["results"]

	override := map[string]string{"--url": webhook, "--probe-url": probe, "--rate": testRate, "--duration": testDuration}
	runs := make([]result, testPods)
	took := make([]time.Duration, testPods)
	var wg sync.WaitGroup
	for i := range testPods {
		env, args := pod.args(t, gen, i, override)
		wg.Go(func() { runs[i], took[i] = e.run(env, args...) })
	}
	wg.Wait()

	sum := 0
	var names []string
	for i, r := range runs {
		t.Logf("generator %d: exit %d in %.1f s", i, r.code, took[i].Seconds())
		if r.code != exitOK {
			t.Fatalf("generator %d exited %d, want 0 (--fail-on cannot-run): its pod would fail\n%s\n%s", i, r.code, r.stdout, r.stderr)
		}
		rep := reportIn(t, filepath.Join(results, fmt.Sprintf("gen-%d", i)))
		if rep.Load == nil || rep.ExitCode != want || !slices.Equal(rep.Load.Attackers, []string{fmt.Sprintf("gen-%d", i)}) {
			t.Fatalf("generator %d's report: exit code %d, load %+v; want exit code %d from the attacker gen-%d", i, rep.ExitCode, rep.Load, want, i)
		}
		sum += rep.Load.Requests
		names = append(names, rep.Load.Attackers...)
	}

	env, args := pod.args(t, merge, -1, nil)
	r, mtook := e.run(env, args...)
	t.Logf("merge: exit %d in %.1f s", r.code, mtook.Seconds())
	if r.code != want {
		t.Fatalf("the merge exited %d, want %d\n%s\n%s", r.code, want, r.stdout, r.stderr)
	}
	rep := reportIn(t, filepath.Join(results, "merged"))
	if rep.Load == nil || rep.ExitCode != want || rep.Load.Requests != sum || !slices.Equal(rep.Load.Attackers, names) {
		t.Fatalf("the merged report: exit code %d, load %+v; want exit code %d and the %d requests of %v", rep.ExitCode, rep.Load, want, sum, names)
	}
	wantOverall, wantLoad02 := harness.Compliant, harness.Pass
	if want == exitFailed {
		wantOverall, wantLoad02 = harness.NotCompliant, harness.Fail
	}
	if load02 := rep.Result("LOAD-02"); rep.Overall != wantOverall || load02 == nil || load02.Verdict != wantLoad02 {
		t.Fatalf("the merged report says %s, LOAD-02 %+v; want %s, LOAD-02 %s", rep.Overall, load02, wantOverall, wantLoad02)
	}
	t.Logf("merged: %s, %d requests from %v", rep.Overall, sum, names)
}

// podRunner turns a Job's container spec into the engine's run options, as
// the kubelet would run the pod: the built image in place of the README's,
// its args with $(NAME) expanded from the variables its env declares (the
// Job controller would add JOB_COMPLETION_INDEX itself; the manifest is
// held to declaring what it uses), those variables (the completion index
// from the pod's annotation, the secrets the test's), its volume mounts,
// its memory limit, and the host's network.
type podRunner struct {
	engine  engine
	volumes map[string]string // volume name -> host directory
	secrets map[string]string // secret key -> value
}

// args returns the environment and run options of the pod of the given
// completion index (-1: a Job that is not Indexed), with the value after
// each flag of override replaced: the URLs to point at a loopback
// receiver, the rate and duration to make a test of a five-minute load.
func (p podRunner) args(t *testing.T, job batchv1.Job, index int, override map[string]string) (env, args []string) {
	t.Helper()
	c := onlyContainer(t, job)
	if c.Image == "" || len(c.Command) > 0 || c.WorkingDir != "" {
		t.Fatalf("the %s container: image %q, command %q, working directory %q; want an image run from its own entrypoint and directory",
			c.Name, c.Image, c.Command, c.WorkingDir)
	}
	vars := map[string]string{}
	for _, v := range c.Env {
		value := expand(v.Value, vars)
		switch from := v.ValueFrom; {
		case from == nil:
		case from.FieldRef != nil && from.FieldRef.FieldPath == "metadata.annotations['"+batchv1.JobCompletionIndexAnnotation+"']":
			if index < 0 {
				t.Fatalf("the %s container reads a completion index, but its Job is not Indexed", c.Name)
			}
			value = strconv.Itoa(index)
		case from.SecretKeyRef != nil:
			var ok bool
			if value, ok = p.secrets[from.SecretKeyRef.Key]; !ok {
				t.Fatalf("the %s container reads the secret key %q, which the test does not supply", c.Name, from.SecretKeyRef.Key)
			}
		default:
			t.Fatalf("the %s container's %s comes from %+v, which the test does not supply", c.Name, v.Name, from)
		}
		vars[v.Name] = value
		env = append(env, v.Name+"="+value)
		args = append(args, "-e", v.Name) // the value from env, not in the engine's command line
	}
	for _, m := range c.VolumeMounts {
		dir, ok := p.volumes[m.Name]
		if !ok || m.SubPath != "" {
			t.Fatalf("the %s container mounts %+v, which the test does not supply", c.Name, m)
		}
		mount := dir + ":" + m.MountPath
		if m.ReadOnly {
			mount += ":ro"
		}
		args = append(args, "-v", mount)
	}
	if mem := c.Resources.Limits.Memory(); !mem.IsZero() {
		args = append(args, "--memory", strconv.FormatInt(mem.Value(), 10))
	}
	args = append(args, "--network", "host", p.engine.image)

	var cargs []string
	for _, a := range c.Args {
		x := expand(a, vars)
		if strings.Contains(x, "$(") {
			t.Fatalf("the %s container's argument %q refers to a variable its env does not declare", c.Name, a)
		}
		cargs = append(cargs, x)
	}
	for flag, value := range override {
		i := slices.Index(cargs, flag)
		if i < 0 || i+1 == len(cargs) {
			t.Fatalf("the %s container's args have no %s to point at the test's: %q", c.Name, flag, cargs)
		}
		cargs[i+1] = value
	}
	return env, append(args, cargs...)
}

// expand replaces $(NAME) in s with the value of NAME in vars, as
// Kubernetes expands a container's command, args and env values: $$ is a
// literal $, and a reference to a name vars does not hold stays as it is.
func expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] != '$' || i+1 == len(s):
			b.WriteByte(s[i])
		case s[i+1] == '$':
			b.WriteByte('$')
			i++
		case s[i+1] == '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			ref := s[i : i+3+end]
			if v, ok := vars[s[i+2:i+2+end]]; ok {
				ref = v
			}
			b.WriteString(ref)
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func TestImageExpandsArgsAsKubernetes(t *testing.T) {
	vars := map[string]string{"JOB_COMPLETION_INDEX": "2", "EMPTY": ""}
	for _, tc := range []struct{ why, in, want string }{
		{"a declared variable is replaced", "gen-$(JOB_COMPLETION_INDEX)", "gen-2"},
		{"twice in one argument", "$(JOB_COMPLETION_INDEX)/$(JOB_COMPLETION_INDEX)", "2/2"},
		{"an undeclared one stays as it is", "gen-$(HOSTNAME)", "gen-$(HOSTNAME)"},
		{"$$ escapes a reference", "$$(JOB_COMPLETION_INDEX)", "$(JOB_COMPLETION_INDEX)"},
		{"a declared empty value empties it", "a$(EMPTY)b", "ab"},
		{"a shell's $NAME is no reference", "gen-$JOB_COMPLETION_INDEX", "gen-$JOB_COMPLETION_INDEX"},
		{"an unclosed reference stays", "gen-$(JOB", "gen-$(JOB"},
		{"a trailing $ stays", "cost$", "cost$"},
	} {
		if got := expand(tc.in, vars); got != tc.want {
			t.Errorf("%s: expand(%q) = %q, want %q", tc.why, tc.in, got, tc.want)
		}
	}
}
