package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

// maxSignBody bounds what sign reads, so a wrong pipe cannot eat memory.
const maxSignBody = 64 << 20

func runSign(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "sign", "--secret S [--timestamp T] [--file F] < body")
	secretFlag := fs.String("secret", "", "signing secret (default $"+harness.SecretEnv+")")
	ts := fs.String("timestamp", "", "unix seconds to sign at (default: now)")
	file := fs.String("file", "", "read the body from this file instead of standard input")
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
	_, err = fmt.Fprintf(e.stdout, "%s: %s\n", harness.HeaderSignature, signing.FormatHeader(t, signing.Sign(secret, t, body)))
	return err
}
