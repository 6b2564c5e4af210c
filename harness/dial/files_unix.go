//go:build unix

package dial

import (
	"errors"
	"syscall"
)

// filesLimit returns the process's limit of open files (the soft
// RLIMIT_NOFILE, which the Go runtime raises to the hard limit when the
// process starts), and whether it could be read.
func filesLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}

// OutOfFiles reports whether err is the system refusing a file or a
// socket for want of descriptors: the process's (EMFILE) or the system's
// (ENFILE).
func OutOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
