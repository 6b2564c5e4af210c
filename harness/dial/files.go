package dial

import (
	"context"
	"errors"
	"fmt"
)

// Every connection to a receiver or its probe is an open file of the
// harness's process, and two when the bundled reference receiver serves in
// the same process. A run that reaches the process's limit of open files
// cannot open the connections it needs: its deliveries then fail for a
// reason that is the run's, never the receiver's, and must not be judged
// as the receiver's.

// ErrOutOfFiles means the harness could not open a file or a connection
// because its process reached its limit of open files, or the system its
// own: the run could not be made. Test it with errors.Is.
var ErrOutOfFiles = errors.New("out of open files")

// FilesError is a limit of open files too low for a run: below what the
// run needs (Need), or reached while it ran (Err). It wraps ErrOutOfFiles.
type FilesError struct {
	// Limit is the process's limit of open files; zero when unknown.
	Limit uint64
	// Need is how many the run needs; zero when it found out by running
	// out.
	Need int
	// Why says what the run needs them for.
	Why string
	// Err is the error that ran out, when the run did.
	Err error
}

func (e *FilesError) Error() string {
	limit := "the open files limit"
	if e.Limit > 0 {
		limit = fmt.Sprintf("open files limit %d", e.Limit)
	}
	if e.Need > 0 {
		msg := fmt.Sprintf("%s is below the %d this run needs", limit, e.Need)
		if e.Why != "" {
			msg += " (" + e.Why + ")"
		}
		return msg + "; raise it with ulimit -n"
	}
	return fmt.Sprintf("%s was reached: %v; the run stopped, since what follows would judge the receiver for the harness's own want of connections; raise it with ulimit -n", limit, e.Err)
}

// Unwrap makes errors.Is(err, ErrOutOfFiles) hold.
func (e *FilesError) Unwrap() error { return ErrOutOfFiles }

// CheckFiles returns a *FilesError when the process's limit of open files
// is known and below need; why says what they are for.
func CheckFiles(need int, why string) error {
	limit, ok := filesLimit()
	if !ok || limit >= uint64(need) {
		return nil
	}
	return &FilesError{Limit: limit, Need: need, Why: why}
}

// RanOut returns the *FilesError of err, an error that OutOfFiles reports
// as running out.
func RanOut(err error) *FilesError {
	limit, _ := filesLimit()
	return &FilesError{Limit: limit, Err: err}
}

// outOfFilesKey carries the function a context's dials call when they run
// out of open files.
type outOfFilesKey struct{}

// WithOutOfFiles returns ctx carrying f: a dial made under it (through
// Transport, or one that calls Notify) that fails for want of open files
// calls f with a *FilesError first, so that the run can stop before it
// judges the failure. f must be safe for concurrent use.
func WithOutOfFiles(ctx context.Context, f func(*FilesError)) context.Context {
	return context.WithValue(ctx, outOfFilesKey{}, f)
}

// Notify calls ctx's out-of-files function (WithOutOfFiles) when err is a
// dial that failed for want of open files.
func Notify(ctx context.Context, err error) {
	if err == nil || !OutOfFiles(err) {
		return
	}
	if f, ok := ctx.Value(outOfFilesKey{}).(func(*FilesError)); ok {
		f(RanOut(err))
	}
}
