package certify

import (
	"context"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// The external tests reach these unexported names under exported ones;
// no other package needs them.

const FailOnNotCompliant = failOnNotCompliant

var (
	DefaultLoadSettings = defaultLoadSettings
	MakeFragment        = makeFragment
	Placeholder         = placeholder
	Prepare             = prepare
)

func (s *Session) Run(ctx context.Context, scs []*scenario.Scenario) []harness.Result {
	return s.run(ctx, scs)
}

func (s *Session) Finish(results []harness.Result, complete bool, runErr error) error {
	return s.finish(results, complete, runErr)
}

func (o Option) Value(s *Settings) string { return o.value(s) }

func (s *Session) Load(ctx context.Context) (*load.Outcome, error) { return s.runLoad(ctx, func() {}) }

func (s *Session) Capacity(ctx context.Context) (*load.Outcome, error) {
	return s.capacity(ctx, func() {})
}

func (s *Session) Close() { s.close() }
