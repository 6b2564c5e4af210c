package certify_test

import (
	"errors"
	"flag"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
)

var update = flag.Bool("update", false, "write settings.mk from the settings table")

// TestMakeFragment keeps the Makefile's settings (settings.mk, which it
// includes) equal to the settings table: a setting added to the table
// reaches make only through this file.
func TestMakeFragment(t *testing.T) {
	want := certify.MakeFragment()
	if *update {
		if err := os.WriteFile("settings.mk", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("settings.mk")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("settings.mk is not the settings table's: run go test ./harness/certify -run TestMakeFragment -update")
	}
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(makefile), "include harness/certify/settings.mk") {
		t.Error("the Makefile does not include harness/certify/settings.mk")
	}
	// No setting is spelled out by hand in the Makefile's environment.
	for _, o := range certify.Options() {
		if strings.Contains(string(makefile), o.Env+"=") {
			t.Errorf("the Makefile sets %s itself: hookcert_env does", o.Env)
		}
	}
}

// TestOptionsTable checks the table's rows are whole: every setting named
// once, with a flag and a help line, and parsers that refuse what they
// should and name nothing themselves (the caller names the setting).
func TestOptionsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range certify.Options() {
		for _, name := range []string{string(o.Setting), "--" + o.Flag, o.Env} {
			if seen[name] {
				t.Errorf("%s is used by two settings", name)
			}
			seen[name] = true
		}
		if o.Flag == "" || o.Help == "" || o.Commands == 0 {
			t.Errorf("%s has no flag, help or command", o.Setting)
		}
		if !regexp.MustCompile(`^[a-z][a-z-]*$`).MatchString(o.Flag) {
			t.Errorf("%s's flag %q is not lowercase words joined by dashes", o.Setting, o.Flag)
		}
	}
	if o, _ := certify.Lookup(certify.Setting("SECRET")); o.Env != harness.SecretEnv {
		t.Errorf("the secret is read from %s, want %s", o.Env, harness.SecretEnv)
	}
}

// TestDefaultsShowAsWritten checks that each default is shown as a user
// would write it, and that writing it back gives the default again: the
// help and the Makefile's comments tell the truth about the defaults.
func TestDefaultsShowAsWritten(t *testing.T) {
	for _, tc := range []struct {
		set  certify.Setting
		want string
	}{
		{certify.Setting("ACK_DEADLINE"), "1s"},
		{certify.SetSenderTimeout, "5s"},
		{certify.SetRetrySchedule, "1s,2s,4s"},
		{certify.SetSettle, "5s"},
		{certify.SetDedupeGap, "10s"},
		{certify.Setting("RATE"), "50"},
		{certify.SetDuration, "20s"},
		{certify.Setting("MAX_RATE"), "1000"},
		{certify.Setting("MAX_DURATION"), "5m"},
		{certify.SetReportDir, "reports"},
		{certify.Setting("RETRIES"), "one per wait of the retry schedule"},
		{certify.Setting("URL"), "the bundled reference receiver"},
		{certify.Setting("FAIL_ON"), certify.FailOnNotCompliant},
		{certify.Setting("STRICT"), ""},
	} {
		o, ok := certify.Lookup(tc.set)
		if !ok {
			t.Fatalf("%s is not in the table", tc.set)
		}
		if got := o.Default(); got != tc.want {
			t.Errorf("%s shows its default as %q, want %q", tc.set, got, tc.want)
		}
	}
	for _, o := range certify.Options() {
		d := certify.Defaults()
		v := o.Value(&d)
		if v == "" || o.Kind == certify.Secret {
			continue
		}
		s := certify.Defaults()
		if err := o.Parse(&s, v); err != nil {
			t.Errorf("%s: its default %q does not parse: %v", o.Setting, v, err)
		} else if got := o.Value(&s); got != v {
			t.Errorf("%s: its default %q reads back as %q", o.Setting, v, got)
		}
	}
}

// TestRecordedSettingsReachTheReport checks that every row marked
// Recorded changes the report's settings block when it is set, and that
// the others leave it alone: the block comes from the table.
func TestRecordedSettingsReachTheReport(t *testing.T) {
	values := map[certify.Setting]string{
		certify.Setting("URL"): "http://127.0.0.1:9/webhook", certify.Setting("PROBE_URL"): "http://127.0.0.1:9/_probe",
		certify.Setting("LABELS"): "signature", certify.Setting("SCHEME"): "stripe", certify.Setting("STRICT"): "1", certify.Setting("INSECURE"): "1",
		certify.Setting("HTTP_VERSION"): "1.1", certify.Setting("ACK_DEADLINE"): "2s", certify.SetSenderTimeout: "3s",
		certify.SetRetrySchedule: "1s", certify.SetSettle: "7s", certify.SetDedupeGap: "3s", certify.Setting("SCENARIOS"): "mine",
		certify.Setting("FAULTS"): "double-process", certify.Setting("DEDUPE_VOLUME"): "300", certify.Setting("DEDUPE_RATE"): "100",
	}
	base := certify.Placeholder(certify.Defaults()).Report.Settings
	for _, o := range certify.Options() {
		v, ok := values[o.Setting]
		if o.Recorded != ok {
			t.Errorf("%s: Recorded is %v, but the test has %s value for it", o.Setting, o.Recorded, map[bool]string{true: "a", false: "no"}[ok])
			continue
		}
		if !ok {
			continue
		}
		s := certify.Defaults()
		if err := o.Parse(&s, v); err != nil {
			t.Fatalf("%s=%s: %v", o.Setting, v, err)
		}
		s.ReportDir = t.TempDir()
		sess, _ := certify.Prepare(t.Context(), withBadSecret(s))
		if reflect.DeepEqual(sess.Report.Settings, base) {
			t.Errorf("%s=%s leaves the report's settings as they were", o.Setting, v)
		}
	}
}

// withBadSecret makes a run that stops early (an empty secret against a
// URL), so that Prepare only records the settings.
func withBadSecret(s certify.Settings) certify.Settings {
	if s.URL == "" {
		s.URL = "http://127.0.0.1:9/webhook"
		s.Faults = nil
	}
	s.Secret = ""
	return s
}

// TestFromEnvNamesTheSetting checks a bad value in the environment is
// refused with the setting's name and what to write, for each kind of
// parser, and that the names follow Settings.Names.
func TestFromEnvNamesTheSetting(t *testing.T) {
	for _, tc := range []struct {
		set   certify.Setting
		value string
		want  string
	}{
		{certify.Setting("RATE"), "fast", `RATE: "fast" is not a whole number`},
		{certify.Setting("RETRIES"), "11", `RETRIES: "11" is not a number of retries from 0 (none) to 10`},
		{certify.Setting("RETRIES"), "-1", `RETRIES: "-1" is not a number of retries`},
		{certify.SetRetrySchedule, "1s,,2s", `RETRY_SCHEDULE: "1s,,2s" is not a list of positive durations`},
		{certify.Setting("ATTACKER"), "gen/0", `ATTACKER: "gen/0": use letters`},
		{certify.Setting("FAIL_ON"), "never", `FAIL_ON: "never": write not-compliant or cannot-run`},
		{certify.Setting("HTTP_VERSION"), "3", `HTTP_VERSION:`},
		{certify.Setting("FORCE"), "maybe", `FORCE: "maybe" is not a yes or no`},
	} {
		_, err := certify.FromEnv(func(k string) string {
			if k == certify.Env(tc.set) {
				return tc.value
			}
			return ""
		})
		if !errors.Is(err, certify.ErrCannotRun) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: %v, want an error saying %q", tc.set, tc.value, err, tc.want)
		}
	}
	s := certify.Defaults()
	s.Names = func(set certify.Setting) string { return "--" + strings.ToLower(string(set)) }
	err := s.ReadEnv(func(k string) string { return map[string]string{certify.Env(certify.Setting("RATE")): "x"}[k] })
	if err == nil || !strings.Contains(err.Error(), "--rate: ") {
		t.Errorf("a front end's names are not used: %v", err)
	}
	if !slices.ContainsFunc(certify.Options(), func(o certify.Option) bool {
		return o.Setting == certify.Setting("RATE") && o.Takes(certify.CmdCapacity)
	}) {
		t.Error("capacity does not take RATE")
	}
}

// TestREADMEListsEverySetting keeps the README's tables of make variables
// and the CLI's flags true to the settings table: every make variable has
// a row, and every flag is named.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range certify.Options() {
		if o.Make && !strings.Contains(string(readme), "| `"+string(o.Setting)+"` |") {
			t.Errorf("the README has no row for the make variable %s", o.Setting)
		}
		if !strings.Contains(string(readme), "--"+o.Flag) {
			t.Errorf("the README never names the flag --%s", o.Flag)
		}
	}
}
