package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cretoai/monitor/service/internal/alertsink"
	"github.com/cretoai/monitor/service/internal/healthcheck"
)

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "healthcheck" {
		return healthcheck.Run(ctx, args[1:], "http://127.0.0.1:8095/healthz", stderr)
	}
	fs := flag.NewFlagSet("cretoai-alertsink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("listen-addr", envOr(getenv, "CRETOAI_ALERTSINK_LISTEN_ADDR", ":8095"), "address to listen on (CRETOAI_ALERTSINK_LISTEN_ADDR)")
	keep := fs.Int("keep", 500, "notifications kept in memory for the page and the API (each at most 1 MiB)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	sink := alertsink.New(log, stdout, *keep)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: sink.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("alert sink listening", "addr", ln.Addr().String())
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
