package scenario_test

import (
	"fmt"

	"github.com/realm-ai/hookcert/harness/scenario"
)

// A mistake in a scenario file is reported with the file, line and column,
// the JSON pointer of the value and what to do about it.
func ExampleParse() {
	src := `id: SIG-99
title: A delivery signed with the wrong secret is rejected
level: MUST
category: signature
requirement: a signature made with the wrong secret is rejected 4xx
seed: "they skip or botch signature checks"
steps:
  - send:
      build: {type: job.completed}
      signatur: {wrongSecret: true}
    expect: {status: 4xx}
  - probe: {event: forged, processed: 0}
`
	_, err := scenario.Parse("sig-99.yaml", []byte(src))
	fmt.Println(err)
	// Output:
	// sig-99.yaml:10:7: /steps/0/send/signatur: unknown property "signatur" (did you mean "signature"?)
}

func ExampleScenario_AllLabels() {
	s := scenario.Scenario{ID: "IDEM-02", Level: "MUST", Category: "idempotency", Probe: true, Labels: []string{"smoke"}}
	fmt.Println(s.AllLabels())
	// Output:
	// [idempotency must probe smoke]
}
