package events

import (
	"encoding/binary"
	"strings"

	"github.com/realm-ai/hookcert/harness"
)

// Families of events: data.object of the type's first word.
const (
	familyJob   = "job"
	familyModel = "model"
)

// kind says how to build the data of one event type.
type kind struct {
	family string
	// status is data.status; empty for types outside the catalogue.
	status string
	// results: data.results and completedAt (job.completed).
	results bool
	// completedAt without results (model.training.completed).
	completedAt bool
	// failure: errorCode and errorMessage, chosen from failures.
	failure []failure
}

// failure is an errorCode with the errorMessage REALM sends along.
type failure struct{ code, message string }

var jobFailures = []failure{
	{"content_policy_violation", "The prompt was rejected by the content policy."},
	{"generation_timeout", "The job did not finish within its time limit."},
	{"invalid_input", "The input image could not be decoded."},
	{"internal_error", "An internal error stopped the job; it can be retried."},
}

var modelFailures = []failure{
	{"insufficient_training_images", "At least 10 training images are required."},
	{"training_diverged", "Training diverged; try a lower learning rate."},
	{"internal_error", "An internal error stopped the training; it can be retried."},
}

// kinds holds every type of the catalogue (harness.EventTypes).
var kinds = map[string]kind{
	harness.JobQueued:              {family: familyJob, status: "queued"},
	harness.JobProcessing:          {family: familyJob, status: "processing"},
	harness.JobCompleted:           {family: familyJob, status: "completed", results: true},
	harness.JobFailed:              {family: familyJob, status: "failed", failure: jobFailures},
	harness.JobCanceled:            {family: familyJob, status: "canceled"},
	harness.ModelTrainingStarted:   {family: familyModel, status: "processing"},
	harness.ModelTrainingCompleted: {family: familyModel, status: "completed", completedAt: true},
	harness.ModelTrainingFailed:    {family: familyModel, status: "failed", failure: modelFailures},
}

// familyOf names the object of a type outside the catalogue by its first
// word: job.archived concerns a job.
func familyOf(eventType string) string {
	first, _, _ := strings.Cut(eventType, ".")
	return first
}

// Random bytes per generated value.
const (
	seedBytes   = 4
	resultBytes = IDLength + seedBytes
)

func (k kind) resultCount(s *spec) int {
	if !k.results {
		return 0
	}
	if s.resultsSet {
		return s.results
	}
	return 1
}

// entropy is how many random bytes assemble takes for s; fixed for given
// options, so a fixed withRand gives identical events.
func (k kind) entropy(s *spec) int {
	return 3*IDLength + 1 + k.resultCount(s)*resultBytes
}

// assemble builds the document of one event; rnd holds k.entropy(s) bytes.
func assemble(eventType string, k kind, s *spec, rnd *pool, createdAt string) *object {
	// Draw every random value in a fixed order, used or not, so that an
	// option never shifts the values drawn after it.
	eventID := newID("evt", rnd.take(IDLength))
	jobID := newID("job", rnd.take(IDLength))
	modelID := newID("model", rnd.take(IDLength))
	pick := rnd.take(1)[0]
	if s.eventID != "" {
		eventID = s.eventID
	}
	if s.jobID != "" {
		jobID = s.jobID
	}
	if s.modelID != "" {
		modelID = s.modelID
	}
	jobType := s.jobType
	if jobType == "" {
		jobType = defaultJobType
	}

	data := newObject(8).add("object", k.family)
	switch k.family {
	case familyModel:
		data.add("modelId", modelID).add("jobId", jobID)
	case familyJob:
		data.add("jobId", jobID)
		if k.status != "" {
			data.add("jobType", jobType)
		}
	default:
		data.add("jobId", jobID)
	}
	if k.status != "" {
		data.add("status", k.status)
	}
	if k.results {
		n := k.resultCount(s)
		results := make([]any, n)
		for i := range results {
			results[i] = result(jobType, rnd.take(resultBytes))
		}
		data.add("results", results).add("completedAt", createdAt)
	}
	if k.completedAt {
		data.add("completedAt", createdAt)
	}
	if len(k.failure) > 0 {
		f := k.failure[int(pick)%len(k.failure)]
		data.add("errorCode", f.code).add("errorMessage", f.message)
	}

	doc := newObject(8).
		add("eventId", eventID).
		add("eventType", eventType).
		add("apiVersion", "v1").
		add("createdAt", createdAt).
		add("data", data)
	if s.extra {
		addExtra(doc, data)
	}
	return doc
}

// result is one output of a completed job: a video for video_generation,
// an image otherwise, on REALM's CDN, with the seed that made it.
func result(jobType string, rnd []byte) *object {
	idKey, prefix, dir, ext := "imageId", "img", "images", ".png"
	if jobType == "video_generation" {
		idKey, prefix, dir, ext = "videoId", "vid", "videos", ".mp4"
	}
	id := newID(prefix, rnd[:IDLength])
	// Ten-digit seeds keep every result the same size, so resultsForSize
	// is exact.
	seed := minSeed + int64(binary.BigEndian.Uint32(rnd[IDLength:]))%(maxSeed-minSeed+1)
	return newObject(3).
		add(idKey, id).
		add("url", "https://cdn.realm.ai/"+dir+"/"+id+ext).
		add("seed", seed)
}

// addExtra adds the fields Extra documents. data may be anything; only an
// object gets fields.
func addExtra(doc *object, data any) {
	doc.set("livemode", false)
	doc.set("deliveryContext", newObject(2).
		add("region", "eu-west-1").
		add("schemaRevision", 7))
	switch d := data.(type) {
	case *object:
		d.set("metadata", newObject(2).
			add("source", "hookcert").
			add("tags", []any{"forward-compatibility", "extra-fields"}))
		d.set("futureField", "receivers must ignore fields they do not know")
	}
}

// Seeds are ten-digit integers within uint32, as REALM's are.
const (
	minSeed = 1_000_000_000
	maxSeed = 1<<32 - 1
)

// Sizes for large bodies (ACK-06). A default job.completed body with n
// image or video results is exactly baseCompletedSize + n*resultSize bytes;
// JobID, Extra, Set and the like change that.
const (
	// largeBodySize is the body size of the large-payload check: 100 KiB of
	// results.
	largeBodySize = 100 << 10
	// largeResults is resultsForSize(largeBodySize): the Results count of a
	// job.completed body just over largeBodySize long.
	largeResults = (largeBodySize - baseCompletedSize + resultSize - 1) / resultSize
	// resultSize is the encoded size of one result, with the comma that
	// separates it from the next:
	// {"imageId":"img_<20>","url":"https://cdn.realm.ai/images/img_<20>.png","seed":<10>},
	resultSize = len(`{"imageId":"img_","url":"https://cdn.realm.ai/images/img_.png","seed":},`) + 2*IDLength + 10
	// baseCompletedSize is the rest of the body, less one comma.
	baseCompletedSize = 277
)

// resultsForSize returns the smallest Results count that makes a default
// job.completed body at least size bytes long; at least 1.
func resultsForSize(size int) int {
	return max(1, (size-baseCompletedSize+resultSize-1)/resultSize)
}
