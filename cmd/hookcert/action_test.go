package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
)

var update = flag.Bool("update", false, "write the GitHub Action's generated inputs and env from the settings table")

// The GitHub Action (README "In CI"), relative to this package.
const (
	actionDir  = "../../.github/actions/certify"
	actionFile = actionDir + "/action.yml"
	// actionRunStep is the id of the step that runs hookcert with every
	// setting in its env.
	actionRunStep = "run"
)

// actionOnly are the action's own inputs, which no setting names.
var actionOnly = []string{"command", "upload", "artifact-name"}

// actionLeftOut are the settings that conformance or certify take but the
// action has no input for, and why. The secrets are left out by their
// Kind. The action's header comment says the same.
var actionLeftOut = map[certify.Setting]string{
	certify.Setting("FAULTS"):     "it plants faults in the bundled reference receiver, which a pipeline runs to see the suite work, not to certify",
	certify.Setting("PLAIN_HTTP"): "it only serves the bundled reference receiver over http://",
	certify.Setting("ATTACKER"):   "it names one generator of a distributed load merged elsewhere; certify runs one generator and merges itself",
}

// actionDefaults are the settings whose input carries its default: the
// action reads them itself (the report directory, for the summary and the
// upload), so it needs the value when the input is not given.
var actionDefaults = []certify.Setting{certify.SetReportDir}

// actionSettings returns the rows of the settings table the action has an
// input for: every one that conformance or certify takes, but the secrets
// and actionLeftOut.
func actionSettings() []certify.Option {
	var opts []certify.Option
	for _, o := range certify.Options() {
		if o.Takes(certify.CmdCertify) && o.Kind != certify.Secret && actionLeftOut[o.Setting] == "" {
			opts = append(opts, o)
		}
	}
	return opts
}

// actionDescription is an input's description: the row's help and its
// default, as `hookcert <command> -h` and the Makefile say them.
func actionDescription(o certify.Option) string {
	d := o.Default()
	if d == "" && o.Kind == certify.Bool {
		d = "false"
	}
	if d == "" {
		return o.Help
	}
	return o.Help + " (default: " + d + ")"
}

// yamlString quotes s as a YAML double-quoted scalar, which JSON's
// strings are.
func yamlString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// actionGenerated returns the generated regions of action.yml, by name:
// the inputs, one per setting, and the env of the step that runs hookcert,
// which hands each input over as the setting's environment variable.
func actionGenerated() map[string]string {
	var inputs, env strings.Builder
	for _, o := range actionSettings() {
		fmt.Fprintf(&inputs, "  %s:\n    description: %s\n", o.Flag, yamlString(actionDescription(o)))
		if slices.Contains(actionDefaults, o.Setting) {
			fmt.Fprintf(&inputs, "    default: %s\n", yamlString(o.Default()))
		}
		fmt.Fprintf(&env, "        %s: ${{ inputs.%s }}\n", o.Env, o.Flag)
	}
	return map[string]string{"inputs": inputs.String(), "env": env.String()}
}

// fillRegion replaces the lines between the "# Begin generated NAME" and
// "# End generated NAME." comment lines of text with body.
func fillRegion(text, name, body string) (string, error) {
	begin, end := "# Begin generated "+name+":", "# End generated "+name+"."
	lines := strings.SplitAfter(text, "\n")
	b := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), begin) })
	e := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == end })
	if b < 0 || e < b {
		return "", fmt.Errorf("no %q ... %q lines", begin, end)
	}
	return strings.Join(lines[:b+1], "") + body + strings.Join(lines[e:], ""), nil
}

// action is the part of action.yml the tests read. Decoding is strict, so
// a key GitHub does not know (a misspelt default) fails.
type action struct {
	Name        string
	Description string
	Author      string
	Branding    struct{ Icon, Color string }
	Inputs      map[string]struct {
		Description string
		Default     *string
		Required    bool
	}
	Outputs map[string]struct{ Description, Value string }
	Runs    struct {
		Using string
		Steps []actionStep
	}
}

// actionStep is one step of the composite action.
type actionStep struct {
	Name             string
	ID               string
	If               string
	Shell            string
	Run              string
	Uses             string
	With             map[string]string
	Env              map[string]string
	WorkingDirectory string `yaml:"working-directory"`
}

func readAction(t *testing.T) (action, []byte) {
	t.Helper()
	b, err := os.ReadFile(actionFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var a action
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("%s: %v", actionFile, err)
	}
	return a, b
}

func (a action) step(t *testing.T, id string) actionStep {
	t.Helper()
	i := slices.IndexFunc(a.Runs.Steps, func(s actionStep) bool { return s.ID == id })
	if i < 0 {
		t.Fatalf("action.yml has no step with id %q", id)
	}
	return a.Runs.Steps[i]
}

// setsEnv returns the steps, by id or name, whose env sets env.
func (a action) setsEnv(env string) (steps []string) {
	for _, s := range a.Runs.Steps {
		if _, ok := s.Env[env]; ok {
			steps = append(steps, cmp.Or(s.ID, s.Name))
		}
	}
	return steps
}

// TestActionMirrorsTheSettingsTable keeps the action's inputs the settings
// table's (DESIGN 11: inputs from the settings table, secrets only through
// env): the generated parts of action.yml are what the table gives, and,
// read as GitHub reads the file, every setting conformance or certify
// takes is an input named by its flag and handed to hookcert as its
// environment variable, but the secrets and the settings left out on
// purpose, which no step sets, so that the calling step's env reaches
// hookcert.
func TestActionMirrorsTheSettingsTable(t *testing.T) {
	t.Parallel()
	_, raw := readAction(t)
	text := string(raw)
	for name, body := range actionGenerated() {
		var err error
		if text, err = fillRegion(text, name, body); err != nil {
			t.Fatalf("%s: %v", actionFile, err)
		}
	}
	if *update {
		if err := os.WriteFile(actionFile, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if text != string(raw) {
		t.Fatalf("%s's generated inputs or env are not the settings table's: run go test ./cmd/hookcert -run TestActionMirrorsTheSettingsTable -update", actionFile)
	}

	a, _ := readAction(t)
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using is %q, want composite", a.Runs.Using)
	}
	run := a.step(t, actionRunStep)
	if !strings.Contains(run.Run, `"$RUNNER_TEMP/hookcert" "$COMMAND"`) {
		t.Fatalf("the step %q does not run hookcert's command:\n%s", actionRunStep, run.Run)
	}
	mirrored := map[string]bool{}
	for _, o := range certify.Options() {
		_, isInput := a.Inputs[o.Flag]
		switch {
		case o.Kind == certify.Secret:
			if isInput {
				t.Errorf("%s is an input: a secret reaches the action only through the calling step's env (%s)", o.Flag, o.Env)
			}
			if s := a.setsEnv(o.Env); len(s) > 0 {
				t.Errorf("the steps %v set %s: the calling step's env would no longer reach hookcert", s, o.Env)
			}
		case !o.Takes(certify.CmdCertify):
			if isInput {
				t.Errorf("%s is an input, but neither conformance nor certify takes %s", o.Flag, o.Setting)
			}
		case actionLeftOut[o.Setting] != "":
			if isInput {
				t.Errorf("%s is an input, but the action leaves it out: %s", o.Flag, actionLeftOut[o.Setting])
			}
			if s := a.setsEnv(o.Env); len(s) > 0 {
				t.Errorf("the steps %v set %s, which the action leaves out: the calling step's env would no longer reach hookcert", s, o.Env)
			}
			if header, _, _ := strings.Cut(text, "\nname:"); !strings.Contains(header, " "+o.Flag) {
				t.Errorf("action.yml's header does not say why %s is left out", o.Flag)
			}
		default:
			mirrored[o.Flag] = true
			in, ok := a.Inputs[o.Flag]
			if !ok {
				t.Errorf("no input %s for %s, which %s: add it (-update) or leave it out in actionLeftOut, saying why", o.Flag, o.Setting, takers(o))
				continue
			}
			if want := actionDescription(o); in.Description != want {
				t.Errorf("input %s's description is %q, want the table's %q", o.Flag, in.Description, want)
			}
			if in.Default != nil && *in.Default != o.Default() {
				t.Errorf("input %s defaults to %q, the table to %q", o.Flag, *in.Default, o.Default())
			}
			if in.Required {
				t.Errorf("input %s is required: every setting has a default", o.Flag)
			}
			if got, want := run.Env[o.Env], "${{ inputs."+o.Flag+" }}"; got != want {
				t.Errorf("the step %q sets %s to %q, want %q", actionRunStep, o.Env, got, want)
			}
			if s := a.setsEnv(o.Env); len(s) != 1 {
				t.Errorf("the steps %v set %s, want only %q", s, o.Env, actionRunStep)
			}
		}
	}
	for name := range a.Inputs {
		if !mirrored[name] && !slices.Contains(actionOnly, name) {
			t.Errorf("input %s is neither a setting's flag nor one of the action's own (%v)", name, actionOnly)
		}
	}
	for env := range run.Env {
		if strings.HasPrefix(env, "HOOKCERT_") && !slices.ContainsFunc(actionSettings(), func(o certify.Option) bool { return o.Env == env }) {
			t.Errorf("the step %q sets %s, which is no setting the action mirrors", actionRunStep, env)
		}
	}
	for _, out := range []string{"verdict", "status"} {
		if _, ok := a.Outputs[out]; !ok {
			t.Errorf("the action has no output %q (DESIGN 11)", out)
		}
	}
	if a.setsEnv(harness.SecretEnv) != nil {
		t.Errorf("a step sets %s", harness.SecretEnv)
	}
}

// takers says which of conformance and certify take o.
func takers(o certify.Option) string {
	if o.Takes(certify.CmdConformance) {
		return "conformance and certify take"
	}
	return "certify takes"
}

// TestActionScriptsAreSafe reads every shell step of the action as GitHub
// runs it: bash, stopping at the first failure, unset variable or failed
// pipe, and no ${{ }} in a script, where an input would be pasted into the
// code (script injection); inputs reach scripts through env.
func TestActionScriptsAreSafe(t *testing.T) {
	t.Parallel()
	a, _ := readAction(t)
	for i, s := range a.Runs.Steps {
		name := cmp.Or(s.Name, fmt.Sprint("step ", i+1))
		if s.Run == "" {
			if s.Uses == "" {
				t.Errorf("%s neither runs nor uses anything", name)
			}
			continue
		}
		if s.Shell != "bash" {
			t.Errorf("%s runs in %q, want bash", name, s.Shell)
		}
		if !strings.HasPrefix(s.Run, "set -euo pipefail\n") {
			t.Errorf("%s does not begin with set -euo pipefail", name)
		}
		if strings.Contains(s.Run, "${{") {
			t.Errorf("%s has an expression in its script; pass it through env:\n%s", name, s.Run)
		}
		for _, bad := range []string{"set -x", "printenv", "env |", "$" + harness.SecretEnv, "${" + harness.SecretEnv, "$HOOKCERT_PROBE_TOKEN"} {
			if strings.Contains(s.Run, bad) {
				t.Errorf("%s has %q, which could print the secret", name, bad)
			}
		}
	}
}
