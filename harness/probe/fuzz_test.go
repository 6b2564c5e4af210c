package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// FuzzAnswer judges arbitrary probe answers, a status code and a body,
// as the client does to every answer once it has read it: answer, then
// the state of the event or the job asked about. It is seeded with the
// answers of the reference receiver's probe, the schema's edge cases
// (2.0 as an integer, missing and extra members) and other statuses.
// Properties: a 404 is not found and no error; anything but a 200 or a
// 404 is an error; an error wraps ErrProbe and never holds the probe
// token, even when the body echoes it; a state read says what the body
// says, member by exact name: the id asked about, and for an event a
// count of runs that is a whole number of at least zero.
func FuzzAnswer(f *testing.F) {
	for _, s := range []struct {
		code int
		body string
		job  bool
		id   string
	}{
		{200, `{"eventId":"evt_known","timesProcessed":1}`, false, "evt_known"},
		{200, `{"eventId":"evt_known","timesProcessed":2.0}`, false, "evt_known"},
		{200, `{"eventId":"evt_known","timesProcessed":1e300}`, false, "evt_known"},
		{200, `{"eventId":"evt_known","timesProcessed":1,"TimesProcessed":-7}`, false, "evt_known"},
		{200, `{"eventId":"evt_known","timesProcessed":1,"timesProcessed":2}`, false, "evt_known"},
		{200, `{"eventId":"evt_other","timesProcessed":1}`, false, "evt_known"},
		{200, `{"eventId":"evt_known"}`, false, "evt_known"},
		{200, `{"eventId":"evt_` + testToken.Reveal() + `","timesProcessed":1}`, false, "evt_known"},
		{200, `{"jobId":"job_known","status":"completed"}`, true, "job_known"},
		{200, `{"jobId":"job_known","status":"completed","Status":"queued"}`, true, "job_known"},
		{200, `{"jobId":"job_known","status":"done"}`, true, "job_known"},
		{200, `<html>` + testToken.Reveal() + `</html>`, false, "evt_known"},
		{404, `not found`, false, "evt_known"},
		{404, ``, true, "job_known"},
		{401, ``, false, "evt_known"},
		{307, ``, true, "job_known"},
		{500, `boom`, false, "evt_known"},
		{-1, ``, false, ""},
	} {
		f.Add(s.code, []byte(s.body), s.job, s.id)
	}
	c, err := New("http://127.0.0.1:9/_probe", WithToken(testToken))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, code int, body []byte, job bool, id string) {
		schemaName, shown := schemaEvent, "http://127.0.0.1:9/_probe/events/"+id
		if job {
			schemaName, shown = schemaJob, "http://127.0.0.1:9/_probe/jobs/"+id
		}
		found, err := c.answer(shown, code, body, schemaName)
		switch {
		case err != nil:
			checkProbeError(t, err)
			return
		case code == http.StatusNotFound && !found:
			return
		case code != http.StatusOK || !found:
			t.Fatalf("answer(%d, %q) = %t, no error: only a valid 200 is found and only a 404 is not", code, body, found)
		}
		if job {
			st, err := c.jobState(shown, body, id)
			if err != nil {
				checkProbeError(t, err)
				return
			}
			if st.JobID != id || !st.Found || st.Status != memberOf(t, body, "status") {
				t.Fatalf("job %q: %q read as %+v", id, body, st)
			}
			return
		}
		st, err := c.eventState(shown, body, id)
		if err != nil {
			checkProbeError(t, err)
			return
		}
		said, err := strconv.ParseFloat(memberOf(t, body, "timesProcessed"), 64)
		if st.EventID != id || !st.Found || st.TimesProcessed < 0 || err != nil || float64(st.TimesProcessed) != said {
			t.Fatalf("event %q: %q read as %+v", id, body, st)
		}
	})
}

// memberOf is the member name of the JSON object body as written, a
// string's text unquoted, "" when absent.
func memberOf(t *testing.T, body []byte, name string) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("a body the schema accepted does not decode: %v", err)
	}
	switch v := obj[name].(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	}
	return ""
}

// checkProbeError asserts that err wraps ErrProbe and does not hold the
// token.
func checkProbeError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrProbe) {
		t.Fatalf("error %v does not wrap ErrProbe", err)
	}
	if strings.Contains(err.Error(), testToken.Reveal()) {
		t.Fatalf("error %v holds the probe token", err)
	}
}
