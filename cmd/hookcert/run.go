package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/realm-ai/hookcert/harness"
)

// env is what a command may touch of the outside world, so tests can run
// commands in-process with their own streams and environment.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// command is one subcommand: its one-line summary and its run function.
type command struct {
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"capacity":    {"find the highest rate a receiver acknowledges within the deadline", runCapacity},
		"certify":     {"certify a receiver: conformance and load, one combined report", runCertify},
		"conformance": {"certify a receiver against the check catalogue", runConformance},
		"load":        {"load-test a receiver with signed events (vegeta)", runLoad},
		"receiver":    {"run the reference receiver (with planted faults)", runReceiver},
		"report":      {"render or merge reports from report.json files", runReport},
		"sign":        {"print the X-Webhook-Signature header for a body", runSign},
		"status":      {"print a report's verdict and exit with its status", runStatus},
		"summary":     {"print a report as GitHub-flavoured Markdown for a CI job summary", runSummary},
		"trigger":     {"send one signed event to a receiver", runTrigger},
		"validate":    {"check an event payload or a scenario file against the schemas", runValidate},
		"version":     {"print the suite version", runVersion},
	}
}

// Run runs hookcert with the arguments after the program name.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	return run(ctx, e, args)
}

func run(ctx context.Context, e env, args []string) error {
	cmds := commands()
	if len(args) == 0 {
		usage(e.stderr, cmds)
		return usagef("no command given: try 'hookcert help'")
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(e.stdout, cmds)
		return nil
	}
	cmd, ok := cmds[name]
	if !ok {
		return usagef("unknown command %q: try 'hookcert help'", name)
	}
	return cmd.run(ctx, e, rest)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: hookcert <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\n'hookcert <command> -h' shows a command's flags.")
	fmt.Fprintf(w, "The secret may come from %s instead of --secret.\n", harness.SecretEnv)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(e env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: hookcert %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, allowing positional arguments before and after them
// ("trigger job.completed --url U" as well as "trigger --url U
// job.completed"), and turns flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, errHelp
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// errHelp is returned when the user asked for a command's help: not an error
// for the exit status.
var errHelp = &usageError{msg: "help requested"}

// secretFrom returns the secret from the flag or, when the flag is empty,
// from REALM_WEBHOOK_SECRET.
func secretFrom(e env, flagValue string) (harness.Secret, error) {
	s := flagValue
	if s == "" {
		s = e.getenv(harness.SecretEnv)
	}
	if strings.TrimSpace(s) == "" {
		return "", usagef("the secret is empty: pass --secret or set %s", harness.SecretEnv)
	}
	return harness.Secret(s), nil
}

func runVersion(_ context.Context, e env, args []string) error {
	if len(args) > 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprintf(e.stdout, "hookcert %s\n", harness.Version)
	return nil
}
