package api

// Benchmarks for the durable ingest targets in BENCHMARKS.md: events through
// the batch endpoint (≥ 20,000 events/s) and single-event requests from
// concurrent clients (≥ 2,000 requests/s). Both run the whole path: a real
// HTTP server and client, the API handlers, the ledger's group-commit
// committer and the bbolt store in a temporary directory, fsync included.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/store"
)

const benchToken = "bench-token"

// benchServer serves a durable book with nodes registered nodes over real
// HTTP and returns its URL, the node ids and a client that keeps enough idle
// connections for concurrent callers.
func benchServer(b *testing.B, nodes int) (string, []string, *http.Client) {
	b.Helper()
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	l, err := ledger.Open(ledger.DefaultConfig(), st, log, ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go l.Run(ctx)
	b.Cleanup(func() { cancel(); l.Close() })

	srv := httptest.NewServer(New(l, log, Options{Token: benchToken}))
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	b.Cleanup(client.CloseIdleConnections)

	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("validator-%03d", i)
		benchPost(b, client, srv.URL+"/api/v1/nodes", []byte(fmt.Sprintf(`{"node_id":%q}`, ids[i])), http.StatusCreated)
	}
	return srv.URL, ids, client
}

// benchPost posts body and fails unless the answer has status want.
func benchPost(b *testing.B, c *http.Client, url string, body []byte, want int) {
	if err := benchTryPost(c, url, body, want); err != nil {
		b.Fatal(err)
	}
}

func benchTryPost(c *http.Client, url string, body []byte, want int) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: status %d, want %d: %s", url, resp.StatusCode, want, got)
	}
	return nil
}

// BenchmarkBatchIngest posts batches of 1,000 events spread over 100 nodes,
// each acknowledged only once committed, from 1 and from 4 concurrent
// clients, and reports durable events per second.
func BenchmarkBatchIngest(b *testing.B) {
	const nodes, perBatch = 100, 1000
	for _, clients := range []int{1, 4} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			url, ids, client := benchServer(b, nodes)
			type item struct {
				NodeID string `json:"node_id"`
				Type   string `json:"type"`
			}
			events := make([]item, perBatch)
			for i := range events {
				events[i] = item{ids[i%nodes], string(reputation.EventTypes[(i/nodes)%len(reputation.EventTypes)])}
			}
			body, err := json.Marshal(map[string]any{"events": events})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			// RunParallel starts parallelism × GOMAXPROCS goroutines.
			b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
			if clients == 1 {
				for b.Loop() {
					benchPost(b, client, url+"/api/v1/batch", body, http.StatusOK)
				}
			} else {
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := benchTryPost(client, url+"/api/v1/batch", body, http.StatusOK); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSingleEvents has 16 concurrent clients each posting one event at
// a time to POST /api/v1/nodes/{node_id}/events; every answer waits for its
// commit. It reports durable requests per second.
func BenchmarkSingleEvents(b *testing.B) {
	const nodes, clients = 100, 16
	url, ids, client := benchServer(b, nodes)
	bodies := make([][]byte, len(reputation.EventTypes))
	for i, t := range reputation.EventTypes {
		bodies[i] = []byte(fmt.Sprintf(`{"type":%q}`, t))
	}
	var next atomic.Int64
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			if err := benchTryPost(client, url+"/api/v1/nodes/"+ids[i%nodes]+"/events", bodies[i%len(bodies)], http.StatusOK); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
