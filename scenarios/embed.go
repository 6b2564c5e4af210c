// Package scenarios holds the built-in scenario files of the conformance
// suite, one per check of the requirement catalogue (README "The checks"),
// and embeds them so that the suite runs the files in this folder wherever
// the binary goes.
//
// A scenario file is YAML described by schemas/scenario.schema.json; package
// harness/scenario loads and checks them (scenario.Builtin). The file is
// named for its check ID in lowercase, e.g. sig-02.yaml.
package scenarios

import "embed"

// FS holds every *.yaml file of this folder.
//
//go:embed *.yaml
var FS embed.FS
