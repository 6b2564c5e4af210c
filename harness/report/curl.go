package report

// This file builds, for every exchange of a failing or warning check, the
// curl command that re-sends that request, which index.html offers to copy
// and paste. It is built from the evidence alone, which never holds the
// secret: the command carries the signature header as it was sent, never
// a way to make another. Headers are written as the evidence recorded
// them, the body whole when it is known, either in the command or in a
// file beside the report that the command reads; what cannot be sent as
// it was is said in a comment above the command, in the shell's own
// syntax, so that the whole block can be pasted.

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/realm-ai/hookcert/harness"
)

// maxInline bounds a body written into the command itself: the size of
// the evidence's excerpt, which the page shows anyway. A longer body is
// read from a file.
const maxInline = 4 << 10

// expectAbove is the body size from which curl asks the receiver whether
// to send the body (Expect: 100-continue) over HTTP/1.1: 1 KiB in curl 7,
// 1 MiB in curl 8. REALM's sender never asks, so the command turns it off.
const expectAbove = 1 << 10

// notSent are headers the command leaves out: curl writes them itself from
// the URL and the body it sends (Content-Length, Host), or they belong to
// one connection and are curl's to choose (hop-by-hop headers, RFC 9110
// section 7.6.1), and written by hand they would contradict curl's own.
var notSent = []string{"Content-Length", "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// resend is the re-send command of one exchange.
type resend struct {
	// Command is the shell text: comment lines saying what the reader
	// must know, then the curl command.
	Command string
	// File is the path of the body file the command reads, relative to
	// the report directory, and Body what it holds; File is "" when the
	// body is in the command or there is none.
	File string
	Body []byte
}

// resends returns the re-send commands of a check's exchanges, one per
// exchange in order, or nil for a check that neither failed nor warned:
// only a failure is worth reproducing.
func resends(res harness.Result, s Settings) []resend {
	if !broken(res) {
		return nil
	}
	out := make([]resend, len(res.Evidence))
	for i, ex := range res.Evidence {
		out[i] = resendOf(ex, bodyFile(res.ID, i+1), s)
	}
	return out
}

// bodyFile is the file, in the report directory beside the page, that a
// command reads the body of the nth exchange of a check from:
// request-SIG-10-3.body. Beside the page, not in a folder of its own, the
// body files are among the report's files that the project's tests
// search for the secret. The ID is a check ID, but a report read back may
// say anything: only letters, digits, '-' and '_' make it into the name.
func bodyFile(id string, n int) string {
	safe := strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return '_'
	}, id)
	return "request-" + safe + "-" + strconv.Itoa(n) + ".body"
}

// resendOf builds the command that re-sends ex; file is where its body
// goes when the page cannot carry it.
func resendOf(ex harness.Exchange, file string, s Settings) resend {
	var out resend
	var notes []string
	req := ex.Request
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	body := req.Sent()
	switch {
	case len(body) < req.BodySize && req.BodySize > harness.MaxKeptBody:
		notes = append(notes, fmt.Sprintf("NOT EXACT: bodies over %d bytes are not kept, and this one had %d; this sends its first %d bytes only.", harness.MaxKeptBody, req.BodySize, len(body)))
	case len(body) != req.BodySize:
		notes = append(notes, fmt.Sprintf("NOT EXACT: the report holds %d of the %d body bytes sent; this sends those %d.", len(body), req.BodySize, len(body)))
	}
	if ex.Attempt > 0 {
		notes = append(notes, fmt.Sprintf("Signed at the time of the run: a receiver that checks timestamps refuses it once it is over %d s old; hookcert sign makes a fresh signature header.", int(harness.DefaultTolerance.Seconds())))
	}
	if ex.Abandoned {
		notes = append(notes, "The sender closed this attempt's connection once the body was sent; curl waits for the answer.")
	}
	if s.Insecure {
		notes = append(notes, "The run did not verify certificates (INSECURE=1): add -k if curl refuses this one.")
	}

	if strings.Contains(req.URL, harness.Redacted) {
		notes = append(notes, "The report never holds the credentials the URL carries: put them back where it says "+harness.Redacted+".")
	}
	// --globoff: curl reads no ranges into [ and ], an IPv6 host's or
	// a redacted credential's.
	first := []string{"curl", "-sS", "-i", "--globoff"}
	if f := httpFlag(ex.Proto, req.URL, s.HTTPVersion); f != "" {
		first = append(first, f)
	}
	first = append(first, "-X", word(method), quote(req.URL))
	lines := []string{strings.Join(first, " ")}
	for _, k := range sortedKeys(req.Header) {
		if slices.Contains(notSent, http.CanonicalHeaderKey(k)) {
			continue
		}
		for _, v := range req.Header[k] {
			arg, note := headerArg(k, v)
			lines = append(lines, "-H "+arg)
			if note != "" {
				notes = append(notes, note)
			}
		}
	}
	// A request with a body, and a POST, PUT or PATCH with an empty one,
	// which Go's client declares with Content-Length: 0, send data.
	data := req.BodySize > 0 || slices.Contains([]string{http.MethodPost, http.MethodPut, http.MethodPatch}, method)
	// curl adds these unless told not to; the request carried none.
	unset := []string{"Accept", "User-Agent"}
	if data {
		unset = append(unset, "Content-Type")
	}
	if len(body) > expectAbove {
		unset = append(unset, "Expect")
	}
	for _, k := range unset {
		if len(req.Header.Values(k)) == 0 {
			lines = append(lines, "-H "+quote(k+":"))
		}
	}
	switch {
	case !data:
	case inlinable(body):
		// --data-raw, not --data-binary: a body that starts with @ is
		// data, not the name of a file to read.
		lines = append(lines, "--data-raw "+quote(string(body)))
	default:
		out.File, out.Body = file, body
		lines = append(lines, "--data-binary @"+file)
		notes = append(notes, "Run it in the report directory: it sends the body from "+file+", byte for byte.")
	}

	var b strings.Builder
	for _, n := range notes {
		b.WriteString("# " + n + "\n")
	}
	b.WriteString(strings.Join(lines, " \\\n  "))
	out.Command = b.String()
	return out
}

// httpFlag is the curl option that speaks the HTTP version the exchange
// was made in: --http2 over TLS (curl offers h2 as the sender did) or with
// prior knowledge over http:// (h2c, as the sender speaks it), --http1.1
// for HTTP/1. An exchange that got no answer shows no version; it is then
// the one the run asked for, or none, and curl negotiates as the sender
// does: HTTP/2 offered over TLS, HTTP/1.1 over http://.
func httpFlag(proto, rawURL string, v harness.HTTPVersion) string {
	h2 := "--http2-prior-knowledge"
	if strings.HasPrefix(strings.ToLower(rawURL), "https:") {
		h2 = "--http2"
	}
	switch {
	case strings.HasPrefix(proto, "HTTP/2"):
		return h2
	case strings.HasPrefix(proto, "HTTP/1"):
		return "--http1.1"
	case proto == "" && v == harness.HTTP2:
		return h2
	case proto == "" && v == harness.HTTP1:
		return "--http1.1"
	}
	return ""
}

// headerArg is the -H argument that sends one header. An empty value is
// written "Name;", since curl drops a header written "Name:". Credentials
// the evidence redacted are read from an environment variable, which the
// shell refuses to leave unset, and a note says which.
func headerArg(name, value string) (arg, note string) {
	switch {
	case value == "":
		return quote(name + ";"), ""
	case http.CanonicalHeaderKey(name) == "Authorization" && strings.Contains(value, harness.Redacted):
		if strings.HasPrefix(value, "Bearer ") {
			// Only the probe sends a bearer token.
			return `"Authorization: Bearer ${PROBE_TOKEN:?set PROBE_TOKEN to the probe token}"`,
				"The report never holds the probe token: the command reads it from PROBE_TOKEN."
		}
		return `"Authorization: ${AUTHORIZATION:?set AUTHORIZATION to the Authorization value}"`,
			"The report never holds credentials: the command reads the Authorization value from AUTHORIZATION."
	}
	return quote(name + ": " + value), ""
}

// inlinable reports whether body can be written into the command on the
// page: short, and text whose every character a browser copies as it is.
// HTML turns a carriage return into a newline, a browser may copy a
// no-break space as a space, and a shell argument cannot hold a NUL; such
// a body, and one that is not UTF-8, is read from a file.
func inlinable(body []byte) bool {
	if len(body) > maxInline || !utf8.Valid(body) {
		return false
	}
	for _, r := range string(body) {
		if r != '\n' && r != '\t' && !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// quote writes s as one POSIX shell word in single quotes, inside which
// nothing is special; a single quote itself is closed, escaped and
// reopened.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// word writes s bare when the shell reads it as it is, quoted otherwise.
func word(s string) string {
	if s != "" && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == "" {
		return s
	}
	return quote(s)
}
