// Package schemas holds the REALM webhook catalogue as JSON Schema draft
// 2020-12 files and embeds them, so the harness validates against exactly
// the files in this folder and never fetches a schema.
//
// Convention: a schema named NAME lives in NAME.schema.json, with $id
// https://schemas.realm.ai/webhooks/v1/NAME.schema.json, and a valid example
// may sit beside it in NAME.example.json. A name with a dot is an event type
// (job.completed) and is what an event's eventType selects; other schemas
// (envelope, probe-job, ...) use no dot. Every *.json file here is embedded,
// so a schema dropped into the folder is picked up without code changes. The
// event catalogue (envelope, every event type, probe-event and probe-job)
// must have an example; other schemas may go without one, but an example
// that exists must validate and must belong to a schema. Package
// harness/schema enforces this in its tests.
package schemas

import "embed"

// FS holds every *.json file of this folder: the schemas and their examples.
//
//go:embed *.json
var FS embed.FS
