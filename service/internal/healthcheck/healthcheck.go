// Package healthcheck is the `healthcheck` subcommand of the service's
// programs: it asks a running program's health endpoint and exits 0 when it
// answers 200, so container healthchecks need no shell tools in the image.
package healthcheck

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Run parses args (after the subcommand name) and checks url. defaultURL is
// used when --url is not given.
func Run(ctx context.Context, args []string, defaultURL string, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", defaultURL, "health endpoint to check")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", *url, resp.StatusCode)
	}
	return nil
}
