package main

// Crash tests against the real binary: it is built once with `go build`,
// started on a free port and a temporary data directory, killed with SIGKILL
// (no shutdown code runs) or stopped with SIGTERM, and restarted on the same
// data directory. DESIGN.md §3: every acknowledged change is durable and
// survives a crash or restart; gauges after a restart equal gauges before it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	crashToken        = "crash-test-token"
	crashReadyTimeout = 15 * time.Second
)

func TestCrashRecovery(t *testing.T) {
	bin := buildCretoai(t)

	t.Run("state is identical after SIGKILL and idempotent retries replay", func(t *testing.T) {
		// A long unbonding period keeps the withdrawal pending, so its
		// unbonding entry is part of the state compared across the crash.
		h := newCrashHarness(t, bin, "CRETOAI_UNBONDING_PERIOD=1h")
		p := h.start(t)

		for _, n := range []struct{ id, payout string }{
			{"n1", "addr-n1"}, {"n2", "addr-n2"}, {"n3", "addr-n3"}, {"n4", ""}, {"gone", ""},
		} {
			p.mustDo(t, http.MethodPost, "/api/v1/nodes", "", fmt.Sprintf(`{"node_id":%q,"payout_address":%q}`, n.id, n.payout), http.StatusCreated)
		}
		p.mustDo(t, http.MethodDelete, "/api/v1/nodes/gone", "", "", http.StatusNoContent)

		const depositBody = `{"amount":10000}`
		first := p.mustDo(t, http.MethodPost, "/api/v1/nodes/n1/deposits", "dep-n1", depositBody, http.StatusOK)
		p.mustDo(t, http.MethodPost, "/api/v1/nodes/n2/deposits", "dep-n2", `{"amount":20000}`, http.StatusOK)
		p.mustDo(t, http.MethodPost, "/api/v1/nodes/n3/deposits", "dep-n3", `{"amount":30000}`, http.StatusOK)
		p.mustDo(t, http.MethodPost, "/api/v1/nodes/n4/deposits", "dep-n4", `{"amount":40000}`, http.StatusOK)
		for _, id := range []string{"n1", "n2", "n3", "n4"} {
			p.mustDo(t, http.MethodPost, "/api/v1/nodes/"+id+"/events", "", `{"type":"block_proposed","count":30}`, http.StatusOK)
		}
		p.mustDo(t, http.MethodPost, "/api/v1/nodes/n4/events", "", `{"type":"missed_block","count":2}`, http.StatusOK)
		p.mustDo(t, http.MethodPost, "/api/v1/batch", "",
			`{"events":[{"node_id":"n1","type":"heartbeat","count":5},{"node_id":"n2","type":"late_response"}],`+
				`"violations":[{"node_id":"n4","type":"downtime"}]}`, http.StatusOK)
		p.mustDo(t, http.MethodPost, "/api/v1/nodes/n3/violations", "", `{"type":"double_sign","evidence":"block 42"}`, http.StatusOK)
		p.mustDo(t, http.MethodPost, "/api/v1/nodes/n2/withdrawals", "wd-n2", `{"amount":5000}`, http.StatusOK)
		const epochBody = `{"pool":100000}`
		firstEpoch := p.mustDo(t, http.MethodPost, "/api/v1/epochs", "epoch-1", epochBody, http.StatusOK)

		before := p.state(t)
		if !strings.Contains(before.nodes, `"unbonding":5000`) {
			t.Fatalf("state before the crash lacks the pending withdrawal:\n%s", before.nodes)
		}
		p.kill(t)

		p = h.start(t)
		if after := p.state(t); after != before {
			t.Fatalf("state changed across SIGKILL and restart\nnodes before: %s\nnodes after:  %s\nsummary before: %s\nsummary after:  %s",
				before.nodes, after.nodes, before.summary, after.summary)
		}

		for _, retry := range []struct {
			path, key, body string
			want            []byte
		}{
			{"/api/v1/nodes/n1/deposits", "dep-n1", depositBody, first.body},
			{"/api/v1/epochs", "epoch-1", epochBody, firstEpoch.body},
		} {
			got := p.mustDo(t, http.MethodPost, retry.path, retry.key, retry.body, http.StatusOK)
			if v := got.header.Get("Idempotent-Replayed"); v != "true" {
				t.Errorf("retry of %s with key %s after restart: Idempotent-Replayed = %q, want true", retry.path, retry.key, v)
			}
			if !bytes.Equal(got.body, retry.want) {
				t.Errorf("retry of %s with key %s after restart returned\n%s\nwant the first result\n%s", retry.path, retry.key, got.body, retry.want)
			}
		}
		if after := p.state(t); after != before {
			t.Fatalf("idempotent retries after restart changed the book\nnodes before: %s\nnodes after:  %s", before.nodes, after.nodes)
		}
		p.kill(t)
	})

	t.Run("withdrawal that matures while down is released at start", func(t *testing.T) {
		h := newCrashHarness(t, bin)
		p := h.start(t)
		p.mustDo(t, http.MethodPost, "/api/v1/nodes", "", `{"node_id":"n1"}`, http.StatusCreated)
		p.mustDo(t, http.MethodPost, "/api/v1/nodes/n1/deposits", "dep-1", `{"amount":10000}`, http.StatusOK)
		res := p.mustDo(t, http.MethodPost, "/api/v1/nodes/n1/withdrawals", "wd-1", `{"amount":4000}`, http.StatusOK)
		var wd struct {
			ReleaseAt time.Time `json:"release_at"`
		}
		if err := json.Unmarshal(res.body, &wd); err != nil || wd.ReleaseAt.IsZero() {
			t.Fatalf("withdrawal response %s has no release_at (err %v)", res.body, err)
		}
		if s := p.nodeStake(t, "n1"); s.Unbonding != 4000 || s.Withdrawn != 0 {
			t.Fatalf("right after the request: stake %+v, want unbonding 4000 and withdrawn 0", s)
		}
		p.kill(t)

		// Stay down until the release time has passed on the wall clock.
		if wait := time.Until(wd.ReleaseAt); wait > 10*time.Second {
			t.Fatalf("release_at %s is %s away; the unbonding period should be 3s", wd.ReleaseAt, wait)
		}
		for !time.Now().After(wd.ReleaseAt) {
			time.Sleep(time.Until(wd.ReleaseAt) + time.Millisecond)
		}

		// With an hour between release runs only the catch-up at start can
		// release it before /readyz first answers 200.
		p = h.start(t, "CRETOAI_RELEASE_PERIOD=1h")
		s := p.nodeStake(t, "n1")
		if s.Withdrawn != 4000 || s.Unbonding != 0 || len(s.UnbondingQueue) != 0 || s.Bonded != 6000 {
			t.Errorf("when ready after restart: stake %+v, want withdrawn 4000, unbonding 0, empty queue, bonded 6000", s)
		}
		var sum struct {
			Stake struct {
				Withdrawn          uint64 `json:"withdrawn"`
				Unbonding          uint64 `json:"unbonding"`
				PendingWithdrawals int    `json:"pending_withdrawals"`
			} `json:"stake"`
		}
		p.getJSON(t, "/api/v1/summary", &sum)
		if sum.Stake.Withdrawn != 4000 || sum.Stake.Unbonding != 0 || sum.Stake.PendingWithdrawals != 0 {
			t.Errorf("summary stake after restart %+v, want withdrawn 4000, unbonding 0, no pending withdrawals", sum.Stake)
		}
		p.kill(t)
	})

	t.Run("acknowledged writes survive SIGKILL in the middle of a stream", func(t *testing.T) {
		h := newCrashHarness(t, bin)
		p := h.start(t)
		s := p.stream(t, 8, 16)
		deadline := time.Now().Add(10 * time.Second)
		for s.acked() < 400 {
			if time.Now().After(deadline) {
				t.Fatalf("only %d writes acknowledged in 10s", s.acked())
			}
			time.Sleep(5 * time.Millisecond)
		}
		p.kill(t)
		s.wait()
		t.Logf("killed with %d writes acknowledged, %d sent", s.acked(), s.sent())

		p = h.start(t)
		s.check(t, p)
		p.kill(t)
	})

	t.Run("SIGTERM shuts down gracefully and exits 0", func(t *testing.T) {
		h := newCrashHarness(t, bin)
		p := h.start(t)
		s := p.stream(t, 4, 8)
		deadline := time.Now().Add(10 * time.Second)
		for s.acked() < 100 {
			if time.Now().After(deadline) {
				t.Fatalf("only %d writes acknowledged in 10s", s.acked())
			}
			time.Sleep(5 * time.Millisecond)
		}
		start := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			t.Fatalf("still running 5s after SIGTERM")
		}
		s.wait()
		if p.waitErr != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0", p.waitErr)
		}
		t.Logf("exited 0 %s after SIGTERM; %d writes acknowledged, %d sent", time.Since(start).Round(time.Millisecond), s.acked(), s.sent())
		if n := s.serverErrors.Load(); n > 0 {
			t.Errorf("%d writes got a 5xx during graceful shutdown", n)
		}
		if log := p.readLog(t); !strings.Contains(log, "stopped") {
			t.Errorf("log has no \"stopped\" line after SIGTERM:\n%s", log)
		}

		p = h.start(t)
		s.check(t, p)
		p.kill(t)
	})
}

// buildCretoai builds this package's binary into a temporary directory. When
// the test itself runs with -race the binary is built with it too: it then
// reuses the packages the test build compiled, and the service runs under
// the race detector.
func buildCretoai(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "cretoai")
	args := []string{"build", "-o", bin}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.Command(goBin, append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashHarness is one service instance's binary, address, data directory
// and environment, kept across restarts.
type crashHarness struct {
	bin, addr, dataDir, logDir string
	env                        []string
	starts                     int
}

func newCrashHarness(t *testing.T, bin string, env ...string) *crashHarness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := &crashHarness{bin: bin, addr: addr, dataDir: t.TempDir(), logDir: t.TempDir()}
	h.env = append([]string{
		"CRETOAI_LISTEN_ADDR=" + addr,
		"CRETOAI_DATA_DIR=" + h.dataDir,
		"CRETOAI_API_TOKEN=" + crashToken,
		"CRETOAI_UNBONDING_PERIOD=3s",
		"CRETOAI_RELEASE_PERIOD=200ms",
	}, env...)
	return h
}

// crashProc is one running service process.
type crashProc struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	client  *http.Client
	exited  chan struct{}
	waitErr error // set before exited is closed
}

// start runs the binary with the harness environment plus env (later entries
// win) and returns once /readyz answers 200.
func (h *crashHarness) start(t *testing.T, env ...string) *crashProc {
	t.Helper()
	h.starts++
	p := &crashProc{
		base:    "http://" + h.addr,
		logPath: filepath.Join(h.logDir, fmt.Sprintf("run-%d.log", h.starts)),
		client:  &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}},
		exited:  make(chan struct{}),
	}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(h.bin)
	p.cmd.Env = append(append(os.Environ(), h.env...), env...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", h.bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		log := p.readLog(t)
		if strings.Contains(log, "WARNING: DATA RACE") {
			t.Errorf("the race detector reported a data race in the service")
		}
		if t.Failed() {
			t.Logf("service log %s:\n%s", filepath.Base(p.logPath), log)
		}
	})

	deadline := time.Now().Add(crashReadyTimeout)
	probe := &http.Client{Timeout: time.Second}
	for {
		resp, err := probe.Get(p.base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("service exited before it was ready (%v):\n%s", p.waitErr, p.readLog(t))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("service not ready within %s (last error %v):\n%s", crashReadyTimeout, err, p.readLog(t))
		}
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (p *crashProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("process did not exit after SIGKILL")
	}
	p.client.CloseIdleConnections()
}

func (p *crashProc) readLog(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

type crashResponse struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; writes carry the token, and key (if any) as the
// Idempotency-Key.
func (p *crashProc) do(method, path, key, body string) (crashResponse, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		return crashResponse{}, err
	}
	if method != http.MethodGet {
		req.Header.Set("Authorization", "Bearer "+crashToken)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return crashResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return crashResponse{}, err
	}
	return crashResponse{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func (p *crashProc) mustDo(t *testing.T, method, path, key, body string, want int) crashResponse {
	t.Helper()
	r, err := p.do(method, path, key, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.status != want {
		t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, body, r.status, want, r.body)
	}
	return r
}

func (p *crashProc) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	r := p.mustDo(t, http.MethodGet, path, "", "", http.StatusOK)
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, r.body)
	}
}

type crashStake struct {
	Bonded         uint64 `json:"bonded"`
	Unbonding      uint64 `json:"unbonding"`
	UnbondingQueue []struct {
		Amount    uint64    `json:"amount"`
		ReleaseAt time.Time `json:"release_at"`
	} `json:"unbonding_queue"`
	Deposited uint64 `json:"deposited"`
	Withdrawn uint64 `json:"withdrawn"`
	Slashed   uint64 `json:"slashed"`
}

func (p *crashProc) nodeStake(t *testing.T, id string) crashStake {
	t.Helper()
	var n struct {
		Stake crashStake `json:"stake"`
	}
	p.getJSON(t, "/api/v1/nodes/"+id, &n)
	return n.Stake
}

// crashState is the book as the API shows it, in canonical JSON: the node
// list and the summary without its "at" time.
type crashState struct{ nodes, summary string }

func (p *crashProc) state(t *testing.T) crashState {
	t.Helper()
	canonical := func(path string, drop ...string) string {
		r := p.mustDo(t, http.MethodGet, path, "", "", http.StatusOK)
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.UseNumber()
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, r.body)
		}
		for _, k := range drop {
			delete(v, k)
		}
		b, err := json.Marshal(v) // map keys come out sorted
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return crashState{nodes: canonical("/api/v1/nodes"), summary: canonical("/api/v1/summary", "at")}
}

// crashStream is a stream of concurrent writes: two workers per node, one
// depositing 1 unit at a time, one reporting one heartbeat at a time, each
// until a request fails. It counts per node what was sent and what was acknowledged
// with a 2xx.
type crashStream struct {
	nodes              []string
	depSent, depAcked  []atomic.Int64
	evSent, evAcked    []atomic.Int64
	serverErrors       atomic.Int64
	wg                 sync.WaitGroup
	totalAck, totalSnt atomic.Int64
}

func (p *crashProc) stream(t *testing.T, nodes, workers int) *crashStream {
	t.Helper()
	s := &crashStream{
		depSent: make([]atomic.Int64, nodes), depAcked: make([]atomic.Int64, nodes),
		evSent: make([]atomic.Int64, nodes), evAcked: make([]atomic.Int64, nodes),
	}
	for i := range nodes {
		id := fmt.Sprintf("node-%02d", i)
		s.nodes = append(s.nodes, id)
		p.mustDo(t, http.MethodPost, "/api/v1/nodes", "", fmt.Sprintf(`{"node_id":%q}`, id), http.StatusCreated)
	}
	for w := range workers {
		i := (w / 2) % nodes
		path, body, sent, acked := "/api/v1/nodes/"+s.nodes[i]+"/deposits", `{"amount":1}`, &s.depSent[i], &s.depAcked[i]
		if w%2 == 1 {
			path, body, sent, acked = "/api/v1/nodes/"+s.nodes[i]+"/events", `{"type":"heartbeat"}`, &s.evSent[i], &s.evAcked[i]
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				sent.Add(1)
				s.totalSnt.Add(1)
				r, err := p.do(http.MethodPost, path, "", body)
				if err != nil {
					return
				}
				switch {
				case r.status >= 200 && r.status < 300:
					acked.Add(1)
					s.totalAck.Add(1)
				case r.status >= 500:
					s.serverErrors.Add(1)
					return
				default:
					return
				}
			}
		}()
	}
	return s
}

func (s *crashStream) acked() int64 { return s.totalAck.Load() }
func (s *crashStream) sent() int64  { return s.totalSnt.Load() }

func (s *crashStream) wait() { s.wg.Wait() }

// check asserts that every acknowledged write is in the book p serves, that
// nothing was applied that was never sent, and that the stake invariant holds.
func (s *crashStream) check(t *testing.T, p *crashProc) {
	t.Helper()
	var list struct {
		Nodes []struct {
			ID         string `json:"node_id"`
			Reputation struct {
				Events map[string]int64 `json:"events"`
			} `json:"reputation"`
			Stake crashStake `json:"stake"`
		} `json:"nodes"`
	}
	p.getJSON(t, "/api/v1/nodes", &list)
	byID := map[string]int{}
	for i, n := range list.Nodes {
		byID[n.ID] = i
	}
	var total uint64
	for i, id := range s.nodes {
		j, ok := byID[id]
		if !ok {
			t.Errorf("node %s is missing after restart", id)
			continue
		}
		n := list.Nodes[j]
		dep, hb := int64(n.Stake.Deposited), n.Reputation.Events["heartbeat"]
		if lo, hi := s.depAcked[i].Load(), s.depSent[i].Load(); dep < lo || dep > hi {
			t.Errorf("node %s: deposited %d after restart, want between %d acknowledged and %d sent", id, dep, lo, hi)
		}
		if lo, hi := s.evAcked[i].Load(), s.evSent[i].Load(); hb < lo || hb > hi {
			t.Errorf("node %s: %d heartbeats after restart, want between %d acknowledged and %d sent", id, hb, lo, hi)
		}
		if st := n.Stake; st.Deposited-st.Withdrawn-st.Slashed != st.Bonded+st.Unbonding {
			t.Errorf("node %s: stake invariant broken: %+v", id, st)
		}
		total += n.Stake.Deposited
	}
	var sum struct {
		Stake struct {
			Deposited uint64 `json:"deposited"`
			Bonded    uint64 `json:"bonded"`
		} `json:"stake"`
	}
	p.getJSON(t, "/api/v1/summary", &sum)
	if sum.Stake.Deposited != total || sum.Stake.Bonded != total {
		t.Errorf("summary stake %+v, want deposited and bonded %d (the sum over nodes)", sum.Stake, total)
	}
}
