package certify

import (
	"context"

	"github.com/realm-ai/hookcert/harness/load"
)

// The external tests reach these unexported names under exported ones;
// no other package needs them.

const FailOnNotCompliant = failOnNotCompliant

var (
	DefaultLoadSettings = defaultLoadSettings
	MakeFragment        = makeFragment
	Placeholder         = placeholder
)

func (o Option) Value(s *Settings) string { return o.value(s) }

func (s *Session) Load(ctx context.Context) (*load.Outcome, error) { return s.runLoad(ctx) }

func (s *Session) Capacity(ctx context.Context) (*load.Outcome, error) { return s.capacity(ctx) }
