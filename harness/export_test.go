package harness

// ErrHTTPVersion lets the external tests tell a refused HTTP version apart.
var ErrHTTPVersion = errHTTPVersion
