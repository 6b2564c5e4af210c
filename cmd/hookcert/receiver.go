package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/signing"
)

// faultList collects repeated --fault flags.
type faultList []receiver.Fault

func (f *faultList) String() string {
	s := make([]string, len(*f))
	for i, x := range *f {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func (f *faultList) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		fault, err := receiver.ParseFault(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		*f = append(*f, fault)
	}
	return nil
}

func runReceiver(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "receiver", "--addr HOST:PORT --secret S [--fault F]... [--tls]")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	secretFlag := fs.String("secret", "", "signing secret (default $"+harness.SecretEnv+")")
	var faults faultList
	fs.Var(&faults, "fault", "plant a known bug (repeatable); see the list below")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a generated self-signed certificate")
	certOut := fs.String("cert-out", "", "with --tls, write the certificate (PEM) here, to pass as CA_CERT")
	probeToken := fs.String("probe-token", "", "require this bearer token on the probe")
	verbose := fs.Bool("v", false, "log every delivery to standard error")
	schemeFlag := fs.String("scheme", "", "the signing scheme verified: "+strings.Join(signing.BuiltinSchemes(), ", ")+", or a scheme file (default realm-v1)")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: hookcert receiver --addr HOST:PORT --secret S [--scheme S] [--fault F]... [--tls]\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintln(e.stderr, "\nfaults:")
		for _, f := range receiver.Faults() {
			fmt.Fprintf(e.stderr, "  %-22s %s\n", f, f.Description())
		}
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("receiver: unexpected argument %q", pos[0])
	}
	secret, err := secretFrom(e, *secretFlag)
	if err != nil {
		return err
	}
	if *certOut != "" && !*useTLS {
		return usagef("receiver: --cert-out needs --tls")
	}
	cfg := receiver.Config{
		Secrets:    []harness.Secret{secret},
		Faults:     faults,
		ProbeToken: harness.Secret(*probeToken),
	}
	if *schemeFlag != "" {
		if cfg.Scheme, err = certify.LoadScheme(*schemeFlag); err != nil {
			return usagef("receiver: --scheme: %v", err)
		}
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	srv, err := receiver.Start(*addr, cfg, *useTLS)
	if err != nil {
		return usagef("receiver: %v", err)
	}
	defer srv.Close()
	if *certOut != "" {
		if err := os.WriteFile(*certOut, srv.CertPEM, 0o644); err != nil {
			return fmt.Errorf("receiver: writing the certificate: %w", err)
		}
	}
	// The webhook URL alone on the first line and the probe URL on the
	// second, so scripts can read them with head and sed.
	fmt.Fprintln(e.stdout, srv.WebhookURL)
	fmt.Fprintln(e.stdout, srv.ProbeURL)
	if len(faults) > 0 {
		fmt.Fprintf(e.stderr, "faults: %s\n", faults.String())
	}
	<-ctx.Done()
	return nil
}
