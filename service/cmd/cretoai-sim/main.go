// Command cretoai-sim drives a running CretoAI Monitor service through its
// public HTTP API as a realistic validator network, so that dashboards and
// alerts have live data. See package simulator for the model.
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
		fmt.Fprintln(os.Stderr, "cretoai-sim:", err)
		os.Exit(1)
	}
}
