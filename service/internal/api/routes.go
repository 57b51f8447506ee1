// Package api is the service's HTTP API: JSON in and out, errors as
// {"error": {"code", "message", "field"}} with a 4xx status, bearer-token auth
// on writes and Idempotency-Key replay on deposits, withdrawals and epochs.
package api

import (
	"crypto/sha256"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/cretoai/monitor/service/internal/ledger"
)

// Options configure the handler.
type Options struct {
	// Token is the bearer token every write must carry. Required.
	Token string
	// Ready reports whether the service can take traffic; nil means ready.
	Ready func() error
	// Metrics serves GET /metrics; the route is absent when nil.
	Metrics http.Handler
	// Instrument wraps the handler of each route, given the route's
	// template; nil leaves handlers as they are.
	Instrument func(route string, h http.Handler) http.Handler
}

// Server holds what the handlers share.
type Server struct {
	ledger *ledger.Ledger
	log    *slog.Logger
	token  [sha256.Size]byte
	ready  func() error
}

// New returns the API handler with the whole route table.
func New(l *ledger.Ledger, log *slog.Logger, opts Options) http.Handler {
	s := &Server{ledger: l, log: log, token: sha256.Sum256([]byte(opts.Token)), ready: opts.Ready}
	instrument := opts.Instrument
	if instrument == nil {
		instrument = func(_ string, h http.Handler) http.Handler { return h }
	}
	r := mux.NewRouter()
	// Route the path as sent: mux's path cleaning would answer ids made of
	// dots ("." and "..", valid node ids) and "//" with a redirect instead
	// of reaching the handler or a JSON 404.
	r.SkipClean(true)
	r.NotFoundHandler = instrument("unmatched", http.HandlerFunc(s.notFound))
	r.MethodNotAllowedHandler = instrument("unmatched", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.methodNotAllowed(w, req, allowedMethods(r, req))
	}))
	route := func(method, path string, h http.Handler) {
		methods := []string{method}
		if method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
		r.Handle(path, instrument(path, h)).Methods(methods...)
	}
	read := func(h http.HandlerFunc) http.Handler { return h }
	write := func(h http.HandlerFunc) http.Handler { return s.requireToken(h) }

	// The route table. DESIGN.md §3 is the contract for these paths.
	route(http.MethodPost, "/api/v1/nodes", write(s.registerNode))
	route(http.MethodGet, "/api/v1/nodes", read(s.listNodes))
	route(http.MethodGet, "/api/v1/nodes/{node_id}", read(s.getNode))
	route(http.MethodPatch, "/api/v1/nodes/{node_id}", write(s.updateNode))
	route(http.MethodDelete, "/api/v1/nodes/{node_id}", write(s.removeNode))
	route(http.MethodPost, "/api/v1/nodes/{node_id}/events", write(s.recordEvent))
	route(http.MethodPost, "/api/v1/nodes/{node_id}/violations", write(s.recordViolation))
	route(http.MethodPost, "/api/v1/nodes/{node_id}/deposits", write(s.deposit))
	route(http.MethodPost, "/api/v1/nodes/{node_id}/withdrawals", write(s.withdraw))
	route(http.MethodPost, "/api/v1/batch", write(s.batch))
	route(http.MethodPost, "/api/v1/epochs", write(s.runEpoch))
	route(http.MethodGet, "/api/v1/summary", read(s.summary))
	route(http.MethodGet, "/healthz", read(s.healthz))
	route(http.MethodGet, "/readyz", read(s.readyz))
	if opts.Metrics != nil {
		route(http.MethodGet, "/metrics", opts.Metrics)
	}
	return s.recoverPanics(r)
}
