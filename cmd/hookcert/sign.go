package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/signing"
)

// maxSignBody bounds what sign reads, so a wrong pipe cannot eat memory.
const maxSignBody = 64 << 20

func runSign(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "sign", "--secret S [--scheme S] [--timestamp T] [--id ID] [--file F] < body")
	secretFlag := fs.String("secret", "", "signing secret (default $"+harness.SecretEnv+")")
	ts := fs.String("timestamp", "", "unix seconds to sign at (default: now)")
	file := fs.String("file", "", "read the body from this file instead of standard input")
	schemeFlag := fs.String("scheme", "", "signing scheme: "+strings.Join(signing.BuiltinSchemes(), ", ")+", or a scheme file; prints all its headers (default: the REALM v1 signature header alone)")
	id := fs.String("id", "", "the event id the scheme's headers carry (default: the body's eventId)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("sign: unexpected argument %q: the body comes from standard input or --file", pos[0])
	}
	secret, err := secretFrom(e, *secretFlag)
	if err != nil {
		return err
	}
	t := time.Now().Unix()
	if *ts != "" {
		t, err = strconv.ParseInt(*ts, 10, 64)
		if err != nil || t <= 0 {
			return usagef("sign: --timestamp %q is not a positive unix time in seconds", *ts)
		}
	}
	var r io.Reader = e.stdin
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("sign: %w", err)
		}
		defer f.Close()
		r = f
	}
	body, err := io.ReadAll(io.LimitReader(r, maxSignBody+1))
	if err != nil {
		return fmt.Errorf("sign: reading the body: %w", err)
	}
	if len(body) > maxSignBody {
		return usagef("sign: the body is larger than %d MiB", maxSignBody>>20)
	}
	if *schemeFlag == "" {
		_, err = fmt.Fprintf(e.stdout, "%s: %s\n", harness.HeaderSignature, signing.FormatHeader(t, signing.Sign(secret, t, body)))
		return err
	}
	scheme, err := certify.LoadScheme(*schemeFlag)
	if err != nil {
		return usagef("sign: --scheme: %v", err)
	}
	key, err := scheme.KeyOf(secret)
	if err != nil {
		return usagef("sign: %v", err)
	}
	// The id and type the headers carry come from the body unless given.
	var ev struct {
		ID   string `json:"eventId"`
		Type string `json:"eventType"`
	}
	_ = json.Unmarshal(body, &ev)
	if *id != "" {
		ev.ID = *id
	}
	for _, h := range scheme.Headers {
		if ev.ID == "" && strings.Contains(h.Value, "{id}") {
			return usagef("sign: the %s scheme sends the event id in %s: give --id, or a body with an eventId", scheme.Name, h.Name)
		}
	}
	lines := scheme.HeaderLines(signing.Delivery{ID: ev.ID, Type: ev.Type, Attempt: 1, T: t, Body: body}, key)
	for _, l := range lines {
		if _, err := fmt.Fprintf(e.stdout, "%s: %s\n", l.Name, l.Value); err != nil {
			return err
		}
	}
	return nil
}
