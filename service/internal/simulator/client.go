package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// RetryPolicy is how the client retries transient failures (no answer, 5xx,
// 429): after Initial, doubling up to Max, until GiveUpAfter has passed
// since the first attempt.
type RetryPolicy struct {
	Initial     time.Duration
	Max         time.Duration
	GiveUpAfter time.Duration
}

// DefaultRetry is the retry policy of the command.
var DefaultRetry = RetryPolicy{Initial: 100 * time.Millisecond, Max: 2 * time.Second, GiveUpAfter: 30 * time.Second}

// maxResponseBytes caps what the client reads of an answer (a node list of
// 10,000 nodes is about 10 MB).
const maxResponseBytes = 64 << 20

// Client speaks to the service's public HTTP API.
type Client struct {
	base  string
	token string
	hc    *http.Client
	log   *slog.Logger
	retry RetryPolicy
	// retries counts every retry as it starts, for progress reports while a
	// request is still retrying.
	retries atomic.Int64
}

// Retries is the number of retries made so far.
func (c *Client) Retries() int64 { return c.retries.Load() }

// NewClient returns a client for the service at baseURL (scheme and host,
// e.g. http://localhost:8080). timeout bounds each attempt.
func NewClient(baseURL, token string, timeout time.Duration, retry RetryPolicy, log *slog.Logger) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want http(s)://host[:port]", baseURL)
	}
	if retry.Initial <= 0 || retry.Max < retry.Initial || retry.GiveUpAfter < 0 {
		return nil, fmt.Errorf("retry policy %+v is not valid", retry)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	return &Client{
		base:  strings.TrimRight(u.String(), "/"),
		token: token,
		hc:    &http.Client{Transport: tr, Timeout: timeout},
		log:   log,
		retry: retry,
	}, nil
}

// Result is the outcome of Do.
type Result struct {
	Response
	// Attempts is the number of attempts made; Attempts-1 were retries.
	Attempts int
	// Err is the last transport error when Status is 0.
	Err error
}

// Do makes r, retrying transient failures with backoff. It never fails
// otherwise: a 4xx is returned as it came. When ctx ends it returns at once
// with Status 0 and ctx's error.
func (c *Client) Do(ctx context.Context, r Request) Result {
	first := time.Now()
	wait := c.retry.Initial
	var res Result
	for {
		res.Attempts++
		resp, err := c.once(ctx, r)
		res.Response, res.Err = resp, err
		if ctx.Err() != nil {
			res.Response, res.Err = Response{}, ctx.Err()
			return res
		}
		if !transient(resp, err) {
			return res
		}
		if time.Since(first)+wait > c.retry.GiveUpAfter {
			return res
		}
		level := slog.LevelDebug
		if res.Attempts == 1 {
			level = slog.LevelWarn
		}
		c.log.Log(ctx, level, "request failed; retrying with backoff", "method", r.Method, "path", r.Path,
			"attempt", res.Attempts, "status", resp.Status, "err", err, "in", wait)
		c.retries.Add(1)
		// Up to 20% jitter keeps many simulators from retrying in step; it
		// changes timing only, never what is sent.
		t := time.NewTimer(wait + time.Duration(rand.Int64N(int64(wait)/5+1)))
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{Attempts: res.Attempts, Err: ctx.Err()}
		case <-t.C:
		}
		wait = min(2*wait, c.retry.Max)
	}
}

// transient reports a failure worth retrying: no answer, 5xx or 429.
func transient(resp Response, err error) bool {
	return err != nil || resp.Status >= 500 || resp.Status == http.StatusTooManyRequests
}

func (c *Client) once(ctx context.Context, r Request) (Response, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, c.base+r.Path, body)
	if err != nil {
		return Response{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "cretoai-sim")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Method != http.MethodGet {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if r.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", r.IdempotencyKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Response{}, fmt.Errorf("read answer: %w", err)
	}
	return Response{Status: resp.StatusCode, Body: b, Replayed: resp.Header.Get("Idempotent-Replayed") == "true"}, nil
}

// WaitReady polls GET /readyz until it answers 200, for at most timeout.
func (c *Client) WaitReady(ctx context.Context, timeout time.Duration, every time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	logged := false
	for {
		resp, err := c.once(ctx, Request{Method: http.MethodGet, Path: "/readyz"})
		switch {
		case err == nil && resp.Status == http.StatusOK:
			return nil
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("status %d: %s", resp.Status, strings.TrimSpace(string(resp.Body)))
		}
		if !logged {
			c.log.Info("waiting for the service to be ready", "url", c.base+"/readyz", "timeout", timeout, "last", last)
			logged = true
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("service at %s not ready after %s (last answer: %s)", c.base, timeout, last)
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Summary reads GET /api/v1/summary.
func (c *Client) Summary(ctx context.Context) (Summary, error) {
	var s Summary
	resp, err := c.once(ctx, Request{Method: http.MethodGet, Path: "/api/v1/summary"})
	if err != nil {
		return s, fmt.Errorf("summary: %w", err)
	}
	if resp.Status != http.StatusOK {
		return s, fmt.Errorf("summary: status %d: %s", resp.Status, strings.TrimSpace(string(resp.Body)))
	}
	if err := json.Unmarshal(resp.Body, &s); err != nil {
		return s, fmt.Errorf("summary: decode: %w", err)
	}
	return s, nil
}
