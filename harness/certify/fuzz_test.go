package certify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness/certify"
)

// FuzzSettings reads an arbitrary value of one setting (a byte picks the
// row of the settings table) from the environment, as every command and
// make target does, seeded with each setting's default and the values of
// README's examples and tests. Properties: an error wraps ErrCannotRun,
// names the setting and never holds a secret's value; a value read shows
// as a value that reads back to the same; a label filter read is either
// used or refused with ErrCannotRun (Ginkgo's parser included).
func FuzzSettings(f *testing.F) {
	opts := certify.Options()
	for i, o := range opts {
		d := certify.Defaults()
		for _, v := range []string{o.Value(&d), "", " x ", "0", "-1", "1e9", "9223372036854775808", "1s,,2s", "999999h", "\x00"} {
			f.Add(uint8(i), v)
		}
	}
	for _, v := range []string{"signature || idempotency", "must && !probe", "SIG-03", "(", "&&", "/sig/", "!", "a,b", "{x}"} {
		f.Add(uint8(indexOf(f, opts, "LABELS")), v)
	}
	for _, v := range []string{"skip-verify,flaky", "skip-verify skip-verify", "nope"} {
		f.Add(uint8(indexOf(f, opts, "FAULTS")), v)
	}
	f.Fuzz(func(t *testing.T, which uint8, v string) {
		o := opts[int(which)%len(opts)]
		s, err := certify.FromEnv(func(k string) string {
			if k == o.Env {
				return v
			}
			return ""
		})
		if err != nil {
			if !errors.Is(err, certify.ErrCannotRun) || !strings.Contains(err.Error(), string(o.Setting)+": ") {
				t.Fatalf("%s=%q: %v does not wrap ErrCannotRun and name the setting", o.Setting, v, err)
			}
			if o.Kind == certify.Secret && len(v) >= 8 && strings.Contains(err.Error(), v) {
				t.Fatalf("%s: the error %v holds the secret", o.Setting, err)
			}
			return
		}
		if o.Kind != certify.Secret {
			shown := o.Value(&s)
			again := certify.Defaults()
			if err := o.Parse(&again, shown); err != nil && shown != "" {
				t.Fatalf("%s=%q shows as %q, which does not read back: %v", o.Setting, v, shown, err)
			}
			if got := o.Value(&again); shown != "" && got != shown {
				t.Fatalf("%s=%q shows as %q, which reads back as %q", o.Setting, v, shown, got)
			}
		}
		if o.Setting == "LABELS" {
			if err := s.CheckLabels(); err != nil && !errors.Is(err, certify.ErrCannotRun) {
				t.Fatalf("LABELS=%q: %v does not wrap ErrCannotRun", v, err)
			}
		}
	})
}

// indexOf is the row of setting name in opts.
func indexOf(tb testing.TB, opts []certify.Option, name string) int {
	tb.Helper()
	for i, o := range opts {
		if string(o.Setting) == name {
			return i
		}
	}
	tb.Fatalf("no setting %s in the table", name)
	return 0
}
