// Command stack runs the whole CretoAI Monitor stack natively, without
// Docker: the service, the pinned Prometheus and Alertmanager built from
// their Go modules, the alert sink and the simulator, with the repository's
// own configuration. It prints the URLs and runs until interrupted.
//
//	go run ./e2e/cmd/stack            # real timing
//	go run ./e2e/cmd/stack -factor 15 # everything 15x faster, as the e2e tests run
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cretoai/monitor/e2e/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stack:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	factor := fs.Int("factor", 1, "divide every interval and duration by this factor (15 turns the 15s scrape interval into 1s)")
	dir := fs.String("dir", "", "working directory for data and rewritten configs (default: a new temporary directory)")
	sim := fs.Bool("simulator", true, "run the simulator against the service")
	verbose := fs.Bool("v", false, "show every process's log")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v (flags go before them)", fs.Args())
	}
	if *factor < 1 || *factor > 60 {
		return fmt.Errorf("-factor must be in [1, 60], got %d (1 is real timing; beyond 60 the 15s scrape interval and the shortest rule windows collapse to one second)", *factor)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "cretoai-stack-")
		if err != nil {
			return err
		}
		*dir = d
		defer os.RemoveAll(d) // a directory we made is ours to remove
	}
	logs := io.Discard
	if *verbose {
		logs = stderr
	}
	fmt.Fprintf(stdout, "building and starting the stack in %s (the first run builds Prometheus from source: minutes)…\n", *dir)
	var simArgs []string
	if *factor > 1 {
		simArgs = []string{"--speedup", fmt.Sprint(*factor), "--epoch-every", "5s"}
	}
	s, err := stack.Start(ctx, stack.Options{Dir: *dir, Factor: *factor, Simulator: *sim, SimArgs: simArgs, Log: logs})
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, `
CretoAI Monitor is running natively (time factor %d):
  service       %s   (API token %q)
  prometheus    %s
  alertmanager  %s
  alert sink    %s   (every notification, newest first)
`, *factor, s.URL("service"), stack.Token, s.URL("prometheus"), s.URL("alertmanager"), s.URL("sink"))
	switch started, err := s.StartGrafana(ctx); {
	case err != nil:
		fmt.Fprintf(stdout, "  grafana       a grafana binary is on PATH but did not start: %v\n", err)
	case started:
		fmt.Fprintf(stdout, "  grafana       %s   (anonymous read-only; the CretoAI dashboards are provisioned)\n", s.URL("grafana"))
	default:
		fmt.Fprintln(stdout, "  grafana       not started: no grafana binary on PATH. Grafana is AGPL and ships as an image; `docker compose up -d` runs it")
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping…")
	return nil
}
