package simulator

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var fastRetry = RetryPolicy{Initial: time.Millisecond, Max: 5 * time.Millisecond, GiveUpAfter: 300 * time.Millisecond}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newTestClient(t *testing.T, url string) *Client {
	t.Helper()
	c, err := NewClient(url, "tok", 2*time.Second, fastRetry, discard())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seen is what a test server received.
type seen struct {
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	method, path, body, auth, key, ctype string
}

func (s *seen) record(r *http.Request) int {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, seenRequest{r.Method, r.URL.Path, string(b), r.Header.Get("Authorization"),
		r.Header.Get("Idempotency-Key"), r.Header.Get("Content-Type")})
	return len(s.reqs)
}

func TestClientRetriesTransientFailures(t *testing.T) {
	tests := []struct {
		name     string
		failWith int
	}{
		{"503", http.StatusServiceUnavailable},
		{"500", http.StatusInternalServerError},
		{"429", http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seen
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if s.record(r) <= 2 {
					w.WriteHeader(tt.failWith)
					return
				}
				w.Header().Set("Idempotent-Replayed", "true")
				w.Write([]byte(`{"bonded":5}`))
			}))
			defer srv.Close()
			req := Request{Method: http.MethodPost, Path: "/api/v1/nodes/n1/deposits", Body: []byte(`{"amount":5}`), IdempotencyKey: "k1"}
			res := newTestClient(t, srv.URL).Do(context.Background(), req)
			if !res.OK() || res.Attempts != 3 || !res.Replayed || string(res.Body) != `{"bonded":5}` {
				t.Fatalf("got %+v, want OK after 3 attempts, replayed", res)
			}
			for i, r := range s.reqs {
				want := seenRequest{http.MethodPost, "/api/v1/nodes/n1/deposits", `{"amount":5}`, "Bearer tok", "k1", "application/json"}
				if r != want {
					t.Fatalf("attempt %d sent %+v, want %+v", i+1, r, want)
				}
			}
		})
	}
}

func TestClientDoesNotRetryClientErrors(t *testing.T) {
	for _, status := range []int{400, 401, 404, 409, 422} {
		var s seen
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.record(r)
			w.WriteHeader(status)
			w.Write([]byte(`{"error":{"code":"x"}}`))
		}))
		res := newTestClient(t, srv.URL).Do(context.Background(), Request{Method: http.MethodPost, Path: "/api/v1/batch", Body: []byte(`{}`)})
		srv.Close()
		if res.Status != status || res.Attempts != 1 || len(s.reqs) != 1 {
			t.Fatalf("status %d: got %+v after %d requests, want one attempt", status, res, len(s.reqs))
		}
	}
}

func TestClientReadsWithoutToken(t *testing.T) {
	var s seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.record(r) }))
	defer srv.Close()
	newTestClient(t, srv.URL).Do(context.Background(), Request{Method: http.MethodGet, Path: "/api/v1/nodes"})
	if s.reqs[0].auth != "" || s.reqs[0].ctype != "" {
		t.Fatalf("GET sent %+v; reads need no token and have no body", s.reqs[0])
	}
}

func TestClientGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on
	start := time.Now()
	res := newTestClient(t, url).Do(context.Background(), Request{Method: http.MethodGet, Path: "/readyz"})
	if res.Status != 0 || res.Err == nil || res.Attempts < 3 {
		t.Fatalf("got %+v, want no answer after several attempts", res)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("gave up after %v, policy says 300ms", d)
	}
}

func TestClientStopsWhenCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, "tok", time.Second, RetryPolicy{Initial: time.Hour, Max: time.Hour, GiveUpAfter: 10 * time.Hour}, discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := c.Do(ctx, Request{Method: http.MethodGet, Path: "/x"})
	if res.Status != 0 || res.Err == nil || time.Since(start) > time.Second {
		t.Fatalf("got %+v after %v, want a prompt stop", res, time.Since(start))
	}
}

func TestClientWaitReady(t *testing.T) {
	var s seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.record(r) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"not ready","reason":"ledger is not committing"}`))
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	if err := c.WaitReady(context.Background(), 5*time.Second, time.Millisecond); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if len(s.reqs) != 3 || s.reqs[0].path != "/readyz" {
		t.Fatalf("polled %+v", s.reqs)
	}

	never := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"reason":"ledger is not committing"}`))
	}))
	defer never.Close()
	err := newTestClient(t, never.URL).WaitReady(context.Background(), 100*time.Millisecond, 10*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not ready after 100ms") || !strings.Contains(err.Error(), "ledger is not committing") {
		t.Fatalf("err = %v, want a clear not-ready error with the last answer", err)
	}
}

func TestNewClientRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := NewClient(u, "t", time.Second, DefaultRetry, discard()); err == nil {
			t.Errorf("NewClient(%q) accepted", u)
		}
	}
}
