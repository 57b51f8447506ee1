// Package stack runs the whole CretoAI Monitor stack as local processes, with
// no Docker: the service, Prometheus and Alertmanager (the pinned versions,
// built from their Go modules by .ci/build-tools), the alert sink and,
// optionally, the simulator — with the repository's own configuration files,
// rewritten only as rewrite.go says. The e2e tests and `go run ./e2e/cmd/stack`
// both use it.
package stack

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/cretoai/monitor/e2e/tools"
)

// Options configure a stack.
type Options struct {
	// Root is the repository root; found from the working directory when
	// empty.
	Root string
	// Dir holds binaries, data and rewritten configs; required.
	Dir string
	// Factor divides every interval and duration (see rewrite.go); 15 turns
	// the 15s scrape interval into 1s.
	Factor int
	// Simulator starts cretoai-sim against the service when true.
	Simulator bool
	// SimArgs are extra simulator flags.
	SimArgs []string
	// ServiceEnv adds to or overrides the service's environment.
	ServiceEnv map[string]string
	// Log receives every process's output, prefixed by its name.
	Log io.Writer
}

// Token is the API token of the stack's service.
const Token = "e2e-token"

// Stack is a running stack.
type Stack struct {
	opts  Options
	bins  map[string]string
	addrs map[string]string // component → 127.0.0.1:port

	mu    sync.Mutex
	procs map[string]*proc
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// URL returns the base URL of a component: "service", "prometheus",
// "alertmanager", "sink" or (when started) "grafana".
func (s *Stack) URL(component string) string { return "http://" + s.addrs[component] }

// Addr returns host:port of a component.
func (s *Stack) Addr(component string) string { return s.addrs[component] }

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start builds what it needs and starts every process, waiting until each is
// ready. On error everything started is stopped.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if opts.Root == "" {
		if opts.Root, err = tools.Root(); err != nil {
			return nil, err
		}
	}
	if opts.Factor < 1 {
		opts.Factor = 1
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	s := &Stack{opts: opts, bins: map[string]string{}, addrs: map[string]string{}, procs: map[string]*proc{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	binDir := filepath.Join(opts.Dir, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", binDir+"/",
		"./service/cmd/cretoai", "./service/cmd/cretoai-sim", "./service/cmd/cretoai-alertsink")
	build.Dir = opts.Root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("stack: build the service: %v\n%s", err, out)
	}
	for _, b := range []string{"cretoai", "cretoai-sim", "cretoai-alertsink"} {
		s.bins[b] = filepath.Join(binDir, b)
	}
	for _, t := range []string{"prometheus", "alertmanager"} {
		if s.bins[t], err = tools.Build(t); err != nil {
			return nil, err
		}
	}
	for _, c := range []string{"service", "prometheus", "alertmanager", "sink"} {
		if s.addrs[c], err = freePort(); err != nil {
			return nil, err
		}
	}
	scale := Scale{Factor: opts.Factor}
	promCfg, amCfg, err := WriteConfigs(opts.Root, opts.Dir, scale, Addrs{
		"cretoai:8080":      s.addrs["service"],
		"localhost:9090":    s.addrs["prometheus"],
		"alertmanager:9093": s.addrs["alertmanager"],
		"alert-sink:8095":   s.addrs["sink"],
	})
	if err != nil {
		return nil, err
	}

	if err := s.start(ctx, "sink", []string{s.bins["cretoai-alertsink"], "--listen-addr", s.addrs["sink"]}, nil, "/healthz"); err != nil {
		return nil, err
	}
	if err := s.StartService(ctx); err != nil {
		return nil, err
	}
	if err := s.start(ctx, "alertmanager", []string{s.bins["alertmanager"],
		"--config.file=" + amCfg, "--storage.path=" + filepath.Join(opts.Dir, "alertmanager"),
		"--web.listen-address=" + s.addrs["alertmanager"], "--cluster.listen-address="}, nil, "/-/ready"); err != nil {
		return nil, err
	}
	if err := s.start(ctx, "prometheus", []string{s.bins["prometheus"],
		"--config.file=" + promCfg, "--storage.tsdb.path=" + filepath.Join(opts.Dir, "prometheus"),
		"--web.listen-address=" + s.addrs["prometheus"], "--web.enable-lifecycle"}, nil, "/-/ready"); err != nil {
		return nil, err
	}
	if opts.Simulator {
		args := append([]string{s.bins["cretoai-sim"], "--url", s.URL("service"), "--report-every", "10s"}, opts.SimArgs...)
		if err := s.start(ctx, "simulator", args, map[string]string{"CRETOAI_API_TOKEN": Token}, ""); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ServiceEnv is the service's environment: the stack's addresses and data
// dir, the service's own periods divided by the factor, then
// Options.ServiceEnv.
func (s *Stack) ServiceEnv() map[string]string {
	sc := Scale{Factor: s.opts.Factor}
	dur := func(d string) string { v, _ := sc.Duration(d); return v }
	env := map[string]string{
		"CRETOAI_LISTEN_ADDR":         s.addrs["service"],
		"CRETOAI_DATA_DIR":            filepath.Join(s.opts.Dir, "service-data"),
		"CRETOAI_API_TOKEN":           Token,
		"CRETOAI_LOG_FORMAT":          "json",
		"CRETOAI_DECAY_IDLE":          dur("10m"),
		"CRETOAI_DECAY_PERIOD":        dur("1m"),
		"CRETOAI_SCORE_SAMPLE_PERIOD": dur("1m"),
		"CRETOAI_RELEASE_PERIOD":      dur("10s"),
		"CRETOAI_UNBONDING_PERIOD":    dur("10m"),
	}
	for k, v := range s.opts.ServiceEnv {
		env[k] = v
	}
	return env
}

// StartService starts (or restarts) the service on its data directory and
// waits until it is ready.
func (s *Stack) StartService(ctx context.Context) error {
	return s.start(ctx, "service", []string{s.bins["cretoai"]}, s.ServiceEnv(), "/readyz")
}

// Stop stops one component ("simulator", "prometheus", …) with SIGTERM.
func (s *Stack) Stop(component string) error { return s.stop(component, syscall.SIGTERM) }

// StopService stops the service with SIGTERM (SIGKILL after 10 s).
func (s *Stack) StopService() error { return s.stop("service", syscall.SIGTERM) }

// KillService stops the service with SIGKILL.
func (s *Stack) KillService() error { return s.stop("service", syscall.SIGKILL) }

func (s *Stack) start(ctx context.Context, name string, argv []string, env map[string]string, ready string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	w := &prefixWriter{prefix: name + ": ", w: s.opts.Log}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.Dir = s.opts.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("stack: start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	s.mu.Lock()
	s.procs[name] = p
	s.mu.Unlock()
	if ready == "" {
		return nil
	}
	comp := name
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("stack: %s exited before it was ready: %v", name, p.err)
		default:
		}
		resp, err := http.Get(s.URL(comp) + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stack: %s not ready at %s within 60s: %v", name, s.URL(comp)+ready, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Stack) stop(name string, sig syscall.Signal) error {
	s.mu.Lock()
	p := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	if sig == syscall.SIGTERM && p.err != nil {
		return fmt.Errorf("stack: %s exited with %w after SIGTERM", name, p.err)
	}
	return nil
}

// Close stops every process (simulator first, service last) and waits for
// them. It is safe to call more than once.
func (s *Stack) Close() {
	for _, name := range []string{"grafana", "simulator", "prometheus", "alertmanager", "sink", "service"} {
		_ = s.stop(name, syscall.SIGTERM)
	}
}

// prefixWriter prefixes every line written through it.
type prefixWriter struct {
	mu     sync.Mutex
	prefix string
	w      io.Writer
	line   []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range b {
		p.line = append(p.line, c)
		if c == '\n' {
			_, _ = p.w.Write(append([]byte(p.prefix), p.line...))
			p.line = p.line[:0]
		}
	}
	return len(b), nil
}
