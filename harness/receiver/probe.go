package receiver

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// probeEvent answers GET ProbePath/events/{eventId}: how many times the
// business logic ran for the event, or 404 when it never did.
func (r *receiver) probeEvent(w http.ResponseWriter, req *http.Request) {
	id := req.PathValue("eventId")
	n, ok := r.store.timesProcessed(id)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "event never processed"})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		EventID        string `json:"eventId"`
		TimesProcessed int    `json:"timesProcessed"`
	}{id, n})
}

// probeJob answers GET ProbePath/jobs/{jobId}: the job's state, or 404 for
// a job never seen.
func (r *receiver) probeJob(w http.ResponseWriter, req *http.Request) {
	id := req.PathValue("jobId")
	st, ok := r.store.jobStatus(id)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "job never seen"})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		JobID  string `json:"jobId"`
		Status string `json:"status"`
	}{id, st})
}

// authorize requires the probe token, when one is configured, as a bearer
// token compared in constant time. The probe exposes internal state, so on
// a shared staging host it should not be readable by anyone.
func (r *receiver) authorize(h http.HandlerFunc) http.HandlerFunc {
	want := r.probeToken.Reveal()
	if want == "" {
		return h
	}
	return func(w http.ResponseWriter, req *http.Request) {
		got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hookcert-probe"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "probe token missing or wrong"})
			return
		}
		h(w, req)
	}
}
