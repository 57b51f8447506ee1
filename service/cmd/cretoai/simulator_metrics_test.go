package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/simulator"
)

// scrapeSamples returns every sample of one /metrics scrape keyed by family
// name, as "labels=value" strings.
func scrapeSamples(t *testing.T, base string) map[string]map[string]string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]map[string]string{}
	for name, mf := range fams {
		samples := map[string]string{}
		for _, m := range mf.GetMetric() {
			var key strings.Builder
			for _, lp := range m.GetLabel() {
				key.WriteString(lp.GetName() + "=" + lp.GetValue() + ",")
			}
			samples[key.String()] = m.String()
		}
		out[name] = samples
	}
	return out
}

// TestSimulatorMovesEveryCatalogMetric runs the simulator against the real
// program for a few seconds and checks that every family of the catalog
// changes compared with the scrape taken before it started.
func TestSimulatorMovesEveryCatalogMetric(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service and the simulator for seconds")
	}
	base := startInProcess(t, map[string]string{
		"CRETOAI_UNBONDING_PERIOD":    "300ms",
		"CRETOAI_RELEASE_PERIOD":      "100ms",
		"CRETOAI_DECAY_IDLE":          "500ms",
		"CRETOAI_DECAY_PERIOD":        "200ms",
		"CRETOAI_SCORE_SAMPLE_PERIOD": "200ms",
	})
	// Never expected to move in a healthy run, with the reason.
	static := map[string]string{
		catalog.ReputationThreshold:        "configuration, constant by design",
		catalog.ServiceBuildInfo:           "build information, constant by design",
		catalog.ServiceStoreCommitFailures: "moves only when the disk fails",
	}
	before := scrapeSamples(t, base)

	sim, err := simulator.New(simulator.Config{
		PlanConfig: simulator.PlanConfig{
			Nodes: 20, Seed: 7, RunID: "metrics", Rate: 400, Tick: 100 * time.Millisecond,
			EpochEvery: 500 * time.Millisecond, NoPayoutShare: 0.2, Speedup: 1000,
			Incidents: []simulator.Incident{
				{Kind: simulator.DoubleSign, NodeID: "node-03", Delay: 300 * time.Millisecond},
				{Kind: simulator.PayoutsFailing, NodeID: "node-05", Delay: time.Second},
				{Kind: simulator.MassWithdrawal, NodeID: "node-07", Delay: 600 * time.Millisecond},
				{Kind: simulator.NodeSilent, NodeID: "node-09", Delay: 200 * time.Millisecond},
				{Kind: simulator.ReputationCollapse, NodeID: "node-11", Delay: 400 * time.Millisecond},
			},
		},
		URL: base, Token: "test-token", Duration: 4 * time.Second, ReportEvery: time.Hour,
	}, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()

	moved := map[string]bool{}
	check := func() {
		for name, samples := range scrapeSamples(t, base) {
			prev := before[name]
			if len(prev) != len(samples) {
				moved[name] = true
				continue
			}
			for k, v := range samples {
				if prev[k] != v {
					moved[name] = true
					break
				}
			}
		}
	}
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("simulator: %v", err)
			}
			running = false
		case <-time.After(250 * time.Millisecond):
		}
		check()
	}
	if st := sim.Stats(); st.RequestsFailed > 0 {
		t.Errorf("simulator had %d failed requests", st.RequestsFailed)
	}
	for _, m := range catalog.All() {
		name := m.Name
		if _, ok := static[name]; ok {
			continue
		}
		if !moved[name] {
			t.Errorf("%s did not move during the simulated run", name)
		}
	}
}
