package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/cretoai/monitor/service/internal/api"
	"github.com/cretoai/monitor/service/internal/config"
	"github.com/cretoai/monitor/service/internal/healthcheck"
	"github.com/cretoai/monitor/service/internal/jobs"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/metrics"
	"github.com/cretoai/monitor/service/internal/store"
)

// Set at build time with -ldflags "-X main.version=… -X main.revision=…".
var (
	version  = "dev"
	revision = "unknown"
)

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "healthcheck" {
		return healthcheck.Run(ctx, args[1:], localHealthURL(getenv("CRETOAI_LISTEN_ADDR")), stderr)
	}
	cfg, err := config.Parse(args, getenv, stderr)
	if errors.Is(err, config.ErrHelp) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	log := newLogger(cfg, stderr)

	if cfg.APIToken == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("generate api token: %w", err)
		}
		cfg.APIToken = hex.EncodeToString(b)
		log.Warn("no API token configured; generated one for this run (set CRETOAI_API_TOKEN to keep one)", "api_token", cfg.APIToken)
	}

	reg := prometheus.NewRegistry()
	mx, err := metrics.New(reg, metrics.Options{Version: version, Revision: revision, DisabledFamilies: cfg.MetricsDisable, Log: log})
	if err != nil {
		return err
	}

	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	book, err := ledger.Open(cfg.Ledger, st, log, ledger.Options{Observer: mx})
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	ledgerCtx, stopLedger := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		stopLedger()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		book.Run(ledgerCtx)
	}()

	runner := jobs.New(book, cfg.Jobs, log)
	runner.OnRun = mx.JobRan
	if err := runner.CatchUp(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // asked to stop while catching up
		}
		return fmt.Errorf("catch up scheduled work: %w", err)
	}
	jobsCtx, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	wg.Add(1)
	go func() {
		defer wg.Done()
		runner.Run(jobsCtx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		mx.SampleScores(jobsCtx, book, cfg.ScoreSamplePeriod)
	}()

	metricsHandler := mx.Handler(book)
	apiMetrics := metricsHandler
	if cfg.MetricsAddr != "" {
		apiMetrics = nil // served by its own listener below
	}

	handler := api.New(book, log, api.Options{
		Token:      cfg.APIToken,
		Metrics:    apiMetrics,
		Instrument: mx.Instrument,
		Ready: func() error {
			switch {
			case st.Ping() != nil:
				return errors.New("store is not readable")
			case !book.Ready():
				return errors.New("ledger is not committing")
			case !runner.Running():
				return errors.New("scheduled jobs are not running")
			}
			return nil
		},
	})
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 2)
	go func() { served <- srv.Serve(ln) }()
	log.Info("cretoai listening", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "nodes", book.NodeCount(), "version", version)

	var metricsSrv *http.Server
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", mx.Instrument("/metrics", metricsHandler))
		metricsSrv = &http.Server{Addr: cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		flags := &web.FlagConfig{WebListenAddresses: &[]string{cfg.MetricsAddr}, WebConfigFile: &cfg.WebConfigFile}
		go func() { served <- web.ListenAndServe(metricsSrv, flags, log) }()
		log.Info("metrics listening", "addr", cfg.MetricsAddr, "web_config_file", cfg.WebConfigFile)
	}

	var failure error
	select {
	case err := <-served:
		failure = fmt.Errorf("serve: %w", err)
	case <-book.Failed():
		// Memory and store disagree; exit so a restart rebuilds from disk.
		failure = book.Err()
	case <-ctx.Done():
	}
	log.Info("shutting down", "err", failure)
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Error("shutdown: in-flight requests did not finish", "err", err)
	}
	if metricsSrv != nil {
		if err := metricsSrv.Shutdown(shutCtx); err != nil {
			log.Error("shutdown: metrics listener", "err", err)
		}
	}
	stopJobs()
	stopLedger()
	wg.Wait()
	log.Info("stopped")
	return failure
}

// localHealthURL is the /healthz URL of a service listening on addr (the
// CRETOAI_LISTEN_ADDR form, default ":8080") as seen from the same host.
func localHealthURL(addr string) string {
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://127.0.0.1:8080/healthz"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
