package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// lintError is one finding of actionlint, as -format '{{json .}}' gives it.
type lintError struct {
	Message  string `json:"message"`
	Filepath string `json:"filepath"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Kind     string `json:"kind"`
}

func (e lintError) String() string {
	return fmt.Sprintf("%s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
}

// lintProject is a throwaway repository holding a copy of the action and
// the workflows to lint. actionlint checks what a workflow gives and takes
// of `uses: ./.github/actions/certify` against the action's inputs and
// outputs only inside a Git repository with a .github/workflows directory,
// and silently skips the check elsewhere; this checkout need not be one (a
// source archive).
type lintProject struct{ root string }

func newLintProject(t *testing.T) lintProject {
	t.Helper()
	p := lintProject{t.TempDir()}
	b, err := os.ReadFile(actionFile)
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, ".github/actions/certify/action.yml", b)
	if err := os.MkdirAll(filepath.Join(p.root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p lintProject) write(t *testing.T, name string, b []byte) {
	t.Helper()
	path := filepath.Join(p.root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lint runs actionlint, pinned by go.mod's tool directive, on the
// project's workflow name. shellcheck and pyflakes, which actionlint
// runs on scripts when they are installed, are turned off, so the result
// is the same on every machine.
func (p lintProject) lint(t *testing.T, name string) []lintError {
	t.Helper()
	args := []string{"tool", "actionlint", "-shellcheck=", "-pyflakes=", "-format", "{{json .}}", filepath.Join(p.root, filepath.FromSlash(name))}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	// actionlint exits 1 when it finds something, more when it cannot run.
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("go tool actionlint: %v\n%s", err, stderr.String())
	}
	var errs []lintError
	if err := json.Unmarshal(out.Bytes(), &errs); err != nil {
		t.Fatalf("actionlint's output: %v\n%s%s", err, out.String(), stderr.String())
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for i := range errs {
		path := errs[i].Filepath
		if !filepath.IsAbs(path) {
			path = filepath.Join(cwd, path)
		}
		if rel, err := filepath.Rel(p.root, path); err == nil {
			errs[i].Filepath = filepath.ToSlash(rel)
		}
	}
	return errs
}

// repoWorkflows returns the repository's workflow files.
func repoWorkflows(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../.github/workflows/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no workflows in .github/workflows")
	}
	return files
}

// remoteAction is how a user's workflow names the action.
var remoteAction = regexp.MustCompile(`realm-ai/hookcert/\.github/actions/certify@[^\s#'"]+`)

// readmeWorkflows returns the README's GitHub Actions workflows
// (workflowBlocks).
func readmeWorkflows(t *testing.T) map[int][]byte {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return workflowBlocks(readme)
}

// workflowBlocks returns every GitHub Actions workflow in a Markdown
// text: the yaml blocks with jobs that run somewhere, by the line their
// YAML starts on. A snippet may leave out its trigger; it is read as run
// on push.
func workflowBlocks(markdown []byte) map[int][]byte {
	hasOn := regexp.MustCompile(`(?m)^["']?on["']?\s*:`)
	blocks := map[int][]byte{}
	var block []string
	start, in := 0, false
	for i, line := range strings.Split(string(markdown), "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```yaml":
			in, start, block = true, i+2, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			text := strings.Join(block, "\n") + "\n"
			if !strings.Contains(text, "jobs:") || !strings.Contains(text, "runs-on:") {
				continue
			}
			if !hasOn.MatchString(text) {
				text = "on: push\n" + text
			}
			blocks[start] = []byte(text)
		case in:
			block = append(block, line)
		}
	}
	return blocks
}

// actionStepsWorkflow turns a composite action into a reusable workflow
// whose one job runs the action's steps, with its inputs as the
// workflow's (strings, as an action's inputs are) and its outputs as the
// job's. actionlint reads an action's metadata but not its steps; as a
// job they get its checks: expressions, contexts, the inputs and outputs
// of the actions they use, step ids.
func actionStepsWorkflow(t *testing.T, actionYAML []byte) []byte {
	t.Helper()
	var a struct {
		Inputs  map[string]map[string]any
		Outputs map[string]struct{ Value string }
		Runs    struct{ Steps []any }
	}
	if err := yaml.Unmarshal(actionYAML, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	inputs := map[string]any{}
	for name, in := range a.Inputs {
		w := map[string]any{"type": "string", "required": false}
		if d, ok := in["default"]; ok {
			w["default"] = fmt.Sprint(d)
		}
		inputs[name] = w
	}
	outputs := map[string]string{}
	for name, out := range a.Outputs {
		outputs[name] = out.Value
	}
	wf := map[string]any{
		"name": "the steps of action.yml",
		"on":   map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
		"jobs": map[string]any{"action": map[string]any{
			"runs-on": "ubuntu-latest",
			"outputs": outputs,
			"steps":   a.Runs.Steps,
		}},
	}
	b, err := yaml.Marshal(wf)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestActionlint lints the GitHub Action in context with actionlint
// (DESIGN 11): the repository's workflows, which use it; its own steps,
// as a job; and every workflow in the README, with the action they name
// resolved to this checkout's, so their inputs and outputs are checked
// against it. The rows with a planted mistake prove actionlint runs and
// reads the action: each must be reported.
func TestActionlint(t *testing.T) {
	t.Parallel()
	// Built once, here, rather than by every row at once.
	version, err := exec.Command("go", "tool", "actionlint", "-version").CombinedOutput()
	if err != nil {
		t.Fatalf("go tool actionlint -version: %v\n%s", err, version)
	}
	t.Logf("actionlint %s", strings.SplitN(string(version), "\n", 2)[0])
	p := newLintProject(t)
	actionYAML, err := os.ReadFile(actionFile)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		why   string
		name  string
		file  []byte
		wants []string // what actionlint must report; none: nothing
	}
	rows := []row{{why: "the action's steps run as a job lint clean", name: "action-steps.yml", file: actionStepsWorkflow(t, actionYAML)}}
	for _, f := range repoWorkflows(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row{why: "the repository's " + filepath.Base(f) + " lints clean", name: filepath.Base(f), file: b})
	}
	readme := readmeWorkflows(t)
	for _, line := range slices.Sorted(maps.Keys(readme)) {
		b := readme[line]
		rows = append(rows, row{why: fmt.Sprintf("the README's workflow at line %d lints clean", line), name: fmt.Sprintf("readme-%d.yml", line), file: b})
	}
	const user = `on: push
jobs:
  certify:
    runs-on: %s
    steps:
      - id: hookcert
        uses: realm-ai/hookcert/.github/actions/certify@v1
        with:
          %s: https://staging.example.com/hooks/realm
      - run: echo "$VERDICT"
        env:
          VERDICT: ${{ steps.hookcert.outputs.%s }}
`
	rows = append(rows,
		row{"a runner label that does not exist is reported", "mistake-runs-on.yml",
			fmt.Appendf(nil, user, "ubuntu-lates", "url", "verdict"), []string{`label "ubuntu-lates" is unknown`}},
		row{"a runs-on expression with an undefined input is reported", "mistake-runs-on-expression.yml",
			fmt.Appendf(nil, user, "${{ inputs.runner }}", "url", "verdict"), []string{`property "runner" is not defined`}},
		row{"an input the action does not have is reported", "mistake-input.yml",
			fmt.Appendf(nil, user, "ubuntu-latest", "urll", "verdict"), []string{`input "urll" is not defined in action "hookcert certify"`}},
		row{"an output the action does not have is reported", "mistake-output.yml",
			fmt.Appendf(nil, user, "ubuntu-latest", "url", "verdikt"), []string{`property "verdikt" is not defined in object type {status: string; verdict: string}`}},
		row{"an input the action's steps use but do not declare is reported", "mistake-action-steps.yml",
			actionStepsWorkflow(t, bytes.ReplaceAll(actionYAML, []byte("inputs.report-dir }}"), []byte("inputs.report-dri }}"))),
			[]string{`property "report-dri" is not defined`}},
	)
	for i := range rows {
		// The action a user's workflow names is this checkout's.
		rows[i].file = remoteAction.ReplaceAll(rows[i].file, []byte("./.github/actions/certify"))
		p.write(t, ".github/workflows/"+rows[i].name, rows[i].file)
	}
	for _, r := range rows {
		t.Run(r.why, func(t *testing.T) {
			t.Parallel()
			errs := p.lint(t, ".github/workflows/"+r.name)
			var got []string
			for _, e := range errs {
				got = append(got, e.String())
			}
			report := strings.Join(got, "\n")
			if len(r.wants) == 0 && len(errs) > 0 {
				t.Fatalf("actionlint reports:\n%s\n\nin:\n%s", report, numbered(r.file))
			}
			for _, want := range r.wants {
				if !strings.Contains(report, want) {
					t.Errorf("actionlint does not report %q; it reports:\n%s", want, report)
				}
			}
		})
	}
}

// numbered returns b with line numbers, to read actionlint's findings in.
func numbered(b []byte) string {
	var out strings.Builder
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		fmt.Fprintf(&out, "%4d  %s\n", i+1, l)
	}
	return out.String()
}
