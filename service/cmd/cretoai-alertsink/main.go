// Command cretoai-alertsink receives Alertmanager webhook notifications and
// records them where a person can read them: a JSON line per notification on
// stdout, a page at / and JSON at /api/notifications. It needs no external
// account, so the bundle delivers alerts somewhere out of the box.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cretoai-alertsink:", err)
		os.Exit(1)
	}
}
