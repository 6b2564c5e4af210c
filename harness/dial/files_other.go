//go:build !unix

package dial

// filesLimit is unknown where the system has no RLIMIT_NOFILE.
func filesLimit() (uint64, bool) { return 0, false }

// OutOfFiles reports false where the system has no such error.
func OutOfFiles(error) bool { return false }
