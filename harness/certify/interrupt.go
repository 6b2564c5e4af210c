package certify

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Interruptible returns a context that ends at the first Ctrl-C (SIGINT)
// or SIGTERM, saying what on w, and a stop that restores the signals'
// usual effect. The CLI
// runs under it, and the suites run their checks under it before Ginkgo
// starts (whose own interrupt handling would print a progress report with
// stacks), so that one interrupt stops the run once: the deliveries under way end, the checks
// that finished keep their verdicts, and the reports are written. Until
// stop, a later interrupt is only acknowledged on w, since ending the
// process would lose the reports.
func Interruptible(w io.Writer, what string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			case s := <-sig:
				if n == 0 {
					fmt.Fprintf(w, "\n%s: %s\n", s, what)
				} else {
					fmt.Fprintf(w, "\n%s: still stopping; the reports are written next\n", s)
				}
				cancel()
			}
		}
	}()
	return ctx, sync.OnceFunc(func() {
		signal.Stop(sig)
		close(done)
		cancel()
	})
}
