package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/events"
	"github.com/realm-ai/hookcert/harness/signing"
)

func runTrigger(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "trigger", "EVENT_TYPE --url URL --secret S [--job-id J]")
	url := fs.String("url", "", "the receiver's webhook URL")
	secretFlag := fs.String("secret", "", "signing secret (default $"+harness.SecretEnv+")")
	jobID := fs.String("job-id", "", "the event's data.jobId (default: a fresh job_ id)")
	caCert := fs.String("ca-cert", "", "PEM file of a CA to trust for https")
	insecure := fs.Bool("insecure", false, "skip TLS certificate verification")
	timeout := fs.Duration("timeout", harness.DefaultTiming().SenderTimeout, "abandon the attempt after this long")
	schemeFlag := fs.String("scheme", "", "sign with this scheme: "+strings.Join(signing.BuiltinSchemes(), ", ")+", or a scheme file (default realm-v1)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	types := harness.EventTypes()
	if len(pos) != 1 {
		return usagef("trigger: name one event type, one of %s", strings.Join(types, ", "))
	}
	eventType := pos[0]
	if !slices.Contains(types, eventType) {
		return usagef("trigger: unknown event type %q: use one of %s", eventType, strings.Join(types, ", "))
	}
	if *url == "" {
		return usagef("trigger: --url is required (the receiver's webhook URL)")
	}
	secret, err := secretFrom(e, *secretFlag)
	if err != nil {
		return err
	}
	if *timeout <= 0 {
		return usagef("trigger: --timeout must be positive")
	}
	opts := []delivery.Option{delivery.WithTimeout(*timeout)}
	if *schemeFlag != "" {
		sc, err := certify.LoadScheme(*schemeFlag)
		if err != nil {
			return usagef("trigger: --scheme: %v", err)
		}
		opts = append(opts, delivery.WithScheme(sc))
	}
	if *caCert != "" {
		opts = append(opts, delivery.WithCAFile(*caCert))
	}
	if *insecure {
		opts = append(opts, delivery.WithInsecure())
	}
	sender, err := delivery.NewSender(*url, secret, opts...)
	if err != nil {
		return usagef("trigger: %v", err)
	}
	var evOpts []events.EventOption
	if *jobID != "" {
		evOpts = append(evOpts, events.JobID(*jobID))
	}
	ev, err := events.NewFactory().New(eventType, evOpts...)
	if err != nil {
		return usagef("trigger: %v", err)
	}
	ex := sender.Send(ctx, sender.Attempt(ev))
	fmt.Fprintf(e.stdout, "event   %s (%s)\n", ev.ID, ev.Type)
	if ex.Response != nil {
		fmt.Fprintf(e.stdout, "status  %d\n", ex.Status())
	} else {
		fmt.Fprintf(e.stdout, "status  no response: %s\n", ex.Err)
		if ex.Failure == harness.FailureTLS {
			fmt.Fprintln(e.stdout, "hint    trust the receiver's CA with --ca-cert FILE, or skip verification with --insecure")
		}
	}
	fmt.Fprintf(e.stdout, "latency %s\n", ex.Latency.Round(time.Microsecond))
	if !ex.OK() {
		return errFailed
	}
	return nil
}
