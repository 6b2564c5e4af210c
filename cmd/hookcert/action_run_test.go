package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// actionRun is what one run of the action's steps left: each step's
// outcome and outputs by id (or name), its log, and the job summary.
type actionRun struct {
	outcome map[string]string
	outputs map[string]map[string]string
	exit    map[string]int
	log     string
	summary string
	// uploaded is the directory the upload step was given, resolved in
	// the workspace; "" when it did not run.
	uploaded string
}

// expression matches one ${{ }} expression.
var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// builtForAction is hookcert built as the action's Build step builds it,
// once per test binary.
var builtForAction = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "hookcert-action")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "hookcert")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", bin, "./cmd/hookcert")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	return os.ReadFile(bin)
})

// seedBuild puts in temp the binary the Build step writes there, so that
// the step, which still runs, finds it up to date and does not link it
// again: a link costs a second of CPU, five times in these tests. Had
// the step changed how it builds, it would link as before.
func seedBuild(t *testing.T, temp string) {
	t.Helper()
	b, err := builtForAction()
	if err != nil {
		t.Fatalf("building hookcert as the action does: %v", err)
	}
	if err := os.WriteFile(filepath.Join(temp, "hookcert"), b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// runAction runs the action's steps as GitHub's runner would, on this
// machine: each shell step in bash with GitHub's flags, in the workspace
// or its working-directory, with the calling step's env under its own, and
// RUNNER_TEMP, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY; its if: decides
// whether it runs. The two steps that use other actions are not run: Go is
// here already, and the upload is only recorded. It evaluates the few
// expressions the action uses and fails the test on any other, so the
// action cannot grow one this test would misread.
func runAction(t *testing.T, inputs, callerEnv map[string]string) actionRun {
	t.Helper()
	a, _ := readAction(t)
	for name := range inputs {
		if _, ok := a.Inputs[name]; !ok {
			t.Fatalf("the action has no input %q", name)
		}
	}
	actionPath, err := filepath.Abs(actionDir)
	if err != nil {
		t.Fatal(err)
	}
	r := &actionRunner{t: t, a: a, inputs: inputs, actionPath: actionPath, temp: t.TempDir(), workspace: t.TempDir(),
		run: actionRun{outcome: map[string]string{}, outputs: map[string]map[string]string{}, exit: map[string]int{}}}
	seedBuild(t, r.temp)
	base := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "HOOKCERT_") || strings.HasPrefix(kv, "GITHUB_") || strings.HasPrefix(kv, harness.SecretEnv+"=")
	})
	base = append(base, "RUNNER_TEMP="+r.temp, "GITHUB_WORKSPACE="+r.workspace)
	for k, v := range callerEnv {
		base = append(base, k+"="+v)
	}
	for i, s := range a.Runs.Steps {
		id := cmp.Or(s.ID, s.Name)
		if s.If != "" && !r.condition(s.If) || s.If == "" && r.failed {
			r.run.outcome[id] = "skipped"
			continue
		}
		switch {
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			r.run.uploaded = filepath.Join(r.workspace, r.interpolate(s.With["path"]))
			r.run.outcome[id] = "success"
			continue
		case strings.HasPrefix(s.Uses, "actions/setup-go@"):
			if _, err := os.Stat(r.interpolate(s.With["go-version-file"])); err != nil {
				t.Fatalf("setup-go's go-version-file: %v", err)
			}
			r.run.outcome[id] = "success"
			continue
		case s.Uses != "":
			t.Fatalf("step %d uses %s, which runAction does not know", i+1, s.Uses)
		}
		r.shell(id, s, base)
	}
	r.run.log = r.log.String()
	return r.run
}

// actionRunner is a run of runAction under way: what its expressions
// read, and what the steps run so far have left.
type actionRunner struct {
	t                           *testing.T
	a                           action
	inputs                      map[string]string
	actionPath, temp, workspace string
	run                         actionRun
	log                         strings.Builder
	failed                      bool // a step run so far failed
}

// eval evaluates one of the few expressions the action uses, and fails
// the test on any other.
func (r *actionRunner) eval(expr string) string {
	r.t.Helper()
	parts := strings.Split(expr, ".")
	switch {
	case len(parts) == 2 && parts[0] == "inputs":
		if v, ok := r.inputs[parts[1]]; ok {
			return v
		}
		if in, ok := r.a.Inputs[parts[1]]; ok && in.Default != nil {
			return *in.Default
		}
		return ""
	case expr == "github.action_path":
		return r.actionPath
	case expr == "runner.temp":
		return r.temp
	case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
		return r.run.outputs[parts[1]][parts[3]]
	case len(parts) == 3 && parts[0] == "steps" && parts[2] == "outcome":
		return r.run.outcome[parts[1]]
	}
	r.t.Fatalf("action.yml has the expression %q, which runAction does not evaluate", expr)
	return ""
}

// interpolate replaces each ${{ }} expression in s with its value.
func (r *actionRunner) interpolate(s string) string {
	r.t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string { return r.eval(expression.FindStringSubmatch(m)[1]) })
}

// condition evaluates an if: of terms joined by &&: always(), or
// X == 'literal', compared as GitHub does, ignoring case. Without
// always(), a step runs only when every one before it succeeded.
func (r *actionRunner) condition(cond string) bool {
	r.t.Helper()
	always, ok := false, true
	for term := range strings.SplitSeq(cond, "&&") {
		term = strings.TrimSpace(term)
		if term == "always()" {
			always = true
			continue
		}
		lhs, lit, found := strings.Cut(term, "==")
		lit = strings.TrimSpace(lit)
		if !found || len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
			r.t.Fatalf("action.yml has the condition term %q, which runAction does not evaluate", term)
		}
		ok = ok && strings.EqualFold(r.eval(strings.TrimSpace(lhs)), strings.Trim(lit, "'"))
	}
	return ok && (always || !r.failed)
}

// shell runs the shell step s in bash with GitHub's flags, in the
// workspace or its working-directory, with the environment base, its own
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY and the step's env, and records
// under id its exit status, outcome and outputs, and its log and summary.
func (r *actionRunner) shell(id string, s actionStep, base []string) {
	t := r.t
	t.Helper()
	dir := r.workspace
	if s.WorkingDirectory != "" {
		dir = r.interpolate(s.WorkingDirectory)
	}
	script := filepath.Join(r.temp, "step.sh")
	output, summary := filepath.Join(r.temp, "output"), filepath.Join(r.temp, "summary")
	for f, b := range map[string]string{script: s.Run, output: "", summary: ""} {
		if err := os.WriteFile(f, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(slices.Clone(base), "GITHUB_OUTPUT="+output, "GITHUB_STEP_SUMMARY="+summary)
	for k, v := range s.Env {
		env = append(env, k+"="+r.interpolate(v))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	cancel()
	r.log.WriteString("## " + s.Name + "\n" + out.String())
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s: %v", s.Name, err)
		}
		code = ee.ExitCode()
	}
	r.run.exit[id] = code
	r.run.outcome[id] = "success"
	if code != 0 {
		r.run.outcome[id] = "failure"
		r.failed = true
	}
	r.run.outputs[id] = readOutputs(t, output)
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	r.run.summary += string(b)
}

// readOutputs reads a GITHUB_OUTPUT file of name=value lines.
func readOutputs(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]string{}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %q is not name=value", line)
		}
		outs[k] = v
	}
	return outs
}

// actionRunCase is a run of the action in TestActionRuns, and what its
// outputs, steps and log say.
type actionRunCase struct {
	why      string
	inputs   map[string]string
	env      map[string]string
	receiver bool // a receiver of our own, given by url, with the secret and token
	verdict  string
	status   string
	runExit  int    // hookcert's exit status, kept by the run step
	final    string // the outcome of the last step
	logSays  string
}

// actionRunCases returns TestActionRuns's cases, each with inputs of its
// own that compress the sender's waits; secret and token are what the
// calling step's env gives a receiver of our own.
func actionRunCases(secret, token string) []actionRunCase {
	fast := map[string]string{"settle": "1s", "sender-timeout": "2s", "retry-schedule": "250ms,500ms,1s", "dedupe-gap": "2s"}
	with := func(m map[string]string) map[string]string {
		out := maps.Clone(fast)
		maps.Copy(out, m)
		return out
	}
	return []actionRunCase{
		{why: "the bundled reference receiver is compliant",
			inputs:  with(map[string]string{"labels": "signature"}),
			verdict: "COMPLIANT", status: "0", runExit: 0, final: "success"},
		{why: "the secret and probe token reach hookcert through the calling step's env, and nothing prints them",
			inputs:   with(map[string]string{"labels": "idempotency", "dedupe-volume": "200"}),
			env:      map[string]string{harness.SecretEnv: secret, "HOOKCERT_PROBE_TOKEN": token},
			receiver: true, verdict: "COMPLIANT", status: "0", runExit: 0, final: "success"},
		{why: "a fault planted through the calling step's env fails the job, NOT COMPLIANT",
			inputs:  with(map[string]string{"labels": "idempotency", "dedupe-volume": "200"}),
			env:     map[string]string{"HOOKCERT_FAULTS": "double-process"},
			verdict: "NOT COMPLIANT", status: "1", runExit: 1, final: "failure",
			logSays: "::error title=hookcert::NOT COMPLIANT (status 1)"},
		{why: "fail-on cannot-run keeps the job green while the outputs say NOT COMPLIANT",
			inputs:  with(map[string]string{"labels": "idempotency", "dedupe-volume": "200", "fail-on": "cannot-run"}),
			env:     map[string]string{"HOOKCERT_FAULTS": "double-process"},
			verdict: "NOT COMPLIANT", status: "1", runExit: 0, final: "success"},
		{why: "an input that does not parse is NOT CERTIFIED, with a report saying why",
			inputs:  with(map[string]string{"ack-deadline": "fast"}),
			verdict: "NOT CERTIFIED", status: "2", runExit: 2, final: "failure",
			logSays: "HOOKCERT_ACK_DEADLINE"},
		{why: "a command the action does not run fails before hookcert runs, with no report",
			inputs:  with(map[string]string{"command": "load"}),
			verdict: "", status: "2", final: "skipped",
			logSays: "::error title=hookcert::the command input must be conformance or certify"},
	}
}

// hasSummaryCommand reports whether this hookcert has the summary command
// the action's summary step runs.
func hasSummaryCommand(t *testing.T) bool {
	t.Helper()
	return regexp.MustCompile(`(?m)^\s+summary\s`).MatchString(hookcert(t, "", nil, "help").stdout)
}

// TestActionRuns runs the action's steps on this machine against the
// reference receiver, with the sender's waits compressed through its
// inputs: the inputs reach hookcert, the calling step's env too (the
// secret, the probe token, a setting the action has no input for), the
// outputs say the report's verdict and status, and the last step fails
// the job exactly when hookcert's exit status says so.
func TestActionRuns(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs hookcert conformance six times")
	}
	const secret, token = "whsec_action_e2e_5ecret", "probe_action_e2e_t0ken"
	const summaryStep = "Write the job summary"
	summaries := hasSummaryCommand(t)
	for _, tc := range actionRunCases(secret, token) {
		t.Run(tc.why, func(t *testing.T) {
			t.Parallel()
			if tc.receiver {
				webhook, probe := startReceiver(t, secret, "--probe-token", token)
				tc.inputs["url"], tc.inputs["probe-url"] = webhook, probe
			}
			r := runAction(t, tc.inputs, tc.env)
			status := r.outputs["status"]
			if status["verdict"] != tc.verdict || status["status"] != tc.status {
				t.Fatalf("outputs verdict %q, status %q; want %q, %q\n%s", status["verdict"], status["status"], tc.verdict, tc.status, r.log)
			}
			if tc.final != "skipped" {
				if got := r.outputs["run"]["exit"]; got != strconv.Itoa(tc.runExit) {
					t.Errorf("the run step kept hookcert's exit status %q, want %d\n%s", got, tc.runExit, r.log)
				}
			} else if r.outcome["run"] != "failure" {
				t.Errorf("the run step's outcome is %q, want failure\n%s", r.outcome["run"], r.log)
			}
			if got := r.outcome["Fail unless compliant"]; got != tc.final {
				t.Errorf("the last step's outcome is %q, want %s\n%s", got, tc.final, r.log)
			}
			if tc.final == "failure" && r.exit["Fail unless compliant"] != tc.runExit {
				t.Errorf("the last step exits %d, want hookcert's %d", r.exit["Fail unless compliant"], tc.runExit)
			}
			if !strings.Contains(r.log, tc.logSays) {
				t.Errorf("the log does not say %q:\n%s", tc.logSays, r.log)
			}
			if tc.verdict != "" {
				if _, err := os.Stat(filepath.Join(r.uploaded, "report.json")); err != nil {
					t.Errorf("the upload step is not given the report: %v", err)
				}
			}
			switch {
			case tc.verdict == "":
				if !strings.Contains(r.summary, "no report") {
					t.Errorf("the job summary does not say there is no report:\n%s", r.summary)
				}
			case !summaries:
				// The summary command is on its way: until then, the step
				// that runs it fails, and only that.
				t.Logf("this hookcert has no summary command; the summary step: %s", r.outcome[summaryStep])
			case r.outcome[summaryStep] != "success" || !strings.Contains(r.summary, tc.verdict):
				t.Errorf("the summary step %s, and the job summary does not say %s:\n%s\n%s", r.outcome[summaryStep], tc.verdict, r.summary, r.log)
			}
			if r.outcome["build"] != "success" {
				t.Fatalf("hookcert was not built:\n%s", r.log)
			}
			for _, s := range []string{secret, token} {
				if strings.Contains(r.log+r.summary, s) {
					t.Errorf("a step printed a secret:\n%s", r.log)
				}
				if r.uploaded != "" {
					_ = filepath.WalkDir(r.uploaded, func(path string, d os.DirEntry, err error) error {
						if err == nil && !d.IsDir() {
							if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(s)) {
								t.Errorf("%s holds a secret", path)
							}
						}
						return nil
					})
				}
			}
		})
	}
}
