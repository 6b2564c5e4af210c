package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/realm-ai/hookcert/harness/certify"
)

// runSettings reads the settings of a run command: the defaults, then
// the environment (REALM_WEBHOOK_SECRET and HOOKCERT_*), then the flags,
// one flag per row of the settings table that cmd takes. Errors name a
// setting as the user gave it: by its flag, by its environment variable,
// or by its make variable when make ran the command.
//
// A mistake in the command line (an unknown flag) is a usage error, with
// no report. A value that does not parse, in a flag or the environment,
// is returned as bad with the settings read so far, so that the caller
// still writes a report saying why.
func runSettings(e env, name, synopsis string, cmd certify.Command, args []string) (set certify.Settings, bad error, err error) {
	set = certify.Defaults()
	given := map[certify.Setting]bool{}
	byMake := e.getenv(certify.MakeEnv) != ""
	set.Names = func(s certify.Setting) string {
		o, _ := certify.Lookup(s)
		switch {
		case given[s]:
			return "--" + o.Flag
		case byMake:
			return certify.MakeNames(s)
		case set.SetByEnv(s):
			return o.Env
		case o.Kind == certify.Secret:
			// Not given at all: a secret is given through the
			// environment as often as by its flag.
			return "--" + o.Flag + " or " + o.Env
		}
		return "--" + o.Flag
	}
	envErr := set.ReadEnv(e.getenv)

	fs := newFlags(e, name, synopsis)
	var flagErr error
	lists := map[certify.Setting][]string{}
	for _, o := range certify.Options() {
		if !o.Takes(cmd) {
			continue
		}
		apply := func(v string) error {
			given[o.Setting] = true
			if o.Kind == certify.List {
				// A repeated flag adds to the list the flags give; the
				// environment's is replaced.
				lists[o.Setting] = append(lists[o.Setting], v)
				v = strings.Join(lists[o.Setting], ",")
			}
			if err := o.Parse(&set, v); err != nil {
				// Reported with the report written (see bad), not by the
				// flag package.
				flagErr = errors.Join(flagErr, set.Bad(o.Setting, "%v", err))
			}
			return nil
		}
		if o.Kind == certify.Bool {
			fs.BoolFunc(o.Flag, o.Help, apply)
		} else {
			fs.Func(o.Flag, o.Help, apply)
		}
	}
	fs.Usage = func() { runUsage(e, name, synopsis, cmd) }
	pos, err := parse(fs, args)
	if err != nil {
		return set, nil, err
	}
	if len(pos) > 0 {
		return set, nil, usagef("%s: unexpected argument %q", name, pos[0])
	}
	return set, errors.Join(envErr, flagErr), nil
}

// exitFor is the exit status of a run whose report says code, under the
// run's FAIL_ON: with cannot-run, a receiver that is not compliant still
// exits 0, and only a run that could not be made fails.
func exitFor(set certify.Settings, code int) error {
	if set.FailOn == certify.FailOnCannotRun && code == exitFailed {
		return exitStatus(exitOK)
	}
	return exitStatus(code)
}

// unmade writes the report of a run whose settings could not be used,
// prints its summary, which says why, and returns its exit status (2).
func unmade(e env, set certify.Settings, why error) error {
	s, err := certify.Unmade(set, why)
	printSummary(e, s, err)
	return exitStatus(exitCannotRun)
}

// runUsage prints a run command's help from the settings table: each
// flag with its value's name, its help, its default and the environment
// variable it may come from instead.
func runUsage(e env, name, synopsis string, cmd certify.Command) {
	w := e.stderr
	fmt.Fprintf(w, "usage: hookcert %s %s\n\n", name, synopsis)
	fmt.Fprintf(w, "Each setting may also come from the environment variable named after it; a flag wins.\n\n")
	for _, o := range certify.Options() {
		if !o.Takes(cmd) {
			continue
		}
		arg := " " + string(o.Setting)
		if o.Kind == certify.Bool {
			arg = ""
		}
		fmt.Fprintf(w, "  --%s%s\n", o.Flag, arg)
		var tail []string
		if d := o.Default(); d != "" {
			tail = append(tail, "default "+d)
		}
		tail = append(tail, "env "+o.Env)
		fmt.Fprintf(w, "        %s (%s)\n", o.Help, strings.Join(tail, "; "))
	}
}
