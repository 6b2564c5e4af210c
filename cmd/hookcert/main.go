// Command hookcert plays the REALM webhook sender against a receiver: it
// runs the reference receiver, signs and triggers single events, validates
// payloads against the event catalogue and renders reports. It only parses
// flags and wires the harness packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/realm-ai/hookcert/harness/certify"

	// CA roots for a machine that has none, such as the FROM scratch
	// image: https:// staging URLs still verify. The system's roots win
	// wherever there are any.
	_ "golang.org/x/crypto/x509roots/fallback"
)

func main() {
	// One Ctrl-C (or SIGTERM) stops a run once, and it still writes its
	// reports; a second one is only acknowledged.
	ctx, stop := certify.Interruptible(os.Stderr, "stopping (a run stops what is under way, then writes its reports)")
	err := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Exit statuses, as README "Exit status" defines them.
const (
	exitOK        = 0 // compliant, or the command did what was asked
	exitFailed    = 1 // not compliant, or the event was not acknowledged
	exitCannotRun = 2 // bad arguments, unreachable target, misconfigured probe
)

// usageError is a mistake in the command line: exit 2, with a message that
// says what to do.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errFailed is returned by commands whose work ran but whose outcome is
// negative (exit 1): an event not acknowledged, a payload invalid. What failed
// has already been printed.
var errFailed = errors.New("failed")

// exitCode maps the error of Run to the process exit status, printing it.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	var es exitStatus
	switch {
	case errors.As(err, &es):
		return int(es)
	case err == nil, err == errHelp:
		return exitOK
	case errors.Is(err, errFailed):
		return exitFailed
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "hookcert: %v\n", err)
		return exitCannotRun
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "hookcert: interrupted")
		return exitCannotRun
	default:
		fmt.Fprintf(stderr, "hookcert: %v\n", err)
		return exitCannotRun
	}
}
