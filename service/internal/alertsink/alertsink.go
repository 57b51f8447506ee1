// Package alertsink is a webhook receiver for Alertmanager that records every
// notification where a person can read it — a JSON line on stdout (so
// `docker compose logs alert-sink` shows it), a small HTML page and a JSON API —
// without any external account. It accepts payload version 4 leniently
// (unknown fields, trailing newlines, truncated alert lists) and recognises
// Alertmanager's retries of a notification it already has, so one
// notification is recorded once.
package alertsink

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Alert is one alert of a notification.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Message is Alertmanager's webhook payload (version 4). Fields this sink
// does not know are ignored.
type Message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Notification is one recorded notification.
type Notification struct {
	Seq        int       `json:"seq"`
	ReceivedAt time.Time `json:"received_at"`
	// Path is the webhook path it arrived on, e.g. "critical".
	Path string `json:"path"`
	// TotalAlerts counts the alerts listed plus the ones Alertmanager
	// truncated away.
	TotalAlerts int `json:"total_alerts"`
	// Deliveries counts how often this notification arrived: Alertmanager's
	// retries, and its repeats of an unchanged group every repeat_interval.
	Deliveries     int       `json:"deliveries"`
	LastDeliveryAt time.Time `json:"last_delivery_at"`
	Message        Message   `json:"message"`
	key            string
}

// MaxBody bounds a webhook body; Alertmanager's notifications are a few KiB.
const MaxBody = 1 << 20

// Sink records notifications. The zero value is not usable; use New.
type Sink struct {
	log   *slog.Logger
	out   io.Writer
	limit int
	now   func() time.Time

	mu     sync.Mutex
	seq    int
	byKey  map[string]*Notification
	recent []*Notification // oldest first, at most limit
}

// New returns a Sink that keeps the last limit notifications in memory and
// writes each new one as a JSON line to out.
func New(log *slog.Logger, out io.Writer, limit int) *Sink {
	if limit < 1 {
		limit = 1000
	}
	return &Sink{log: log, out: out, limit: limit, now: time.Now, byKey: map[string]*Notification{}}
}

// dedupKey identifies a notification across Alertmanager's retries: the
// group, its status, and each alert's fingerprint, status and start.
func dedupKey(path string, m *Message) string {
	parts := make([]string, 0, len(m.Alerts))
	for _, a := range m.Alerts {
		parts = append(parts, a.Fingerprint+"/"+a.Status+"/"+a.StartsAt.UTC().Format(time.RFC3339Nano))
	}
	slices.Sort(parts)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%d\n%s", path, m.GroupKey, m.Status, m.TruncatedAlerts, strings.Join(parts, "\n"))
	return hex.EncodeToString(h.Sum(nil))
}

// Record stores m as arrived on path and reports whether it was new.
func (s *Sink) Record(path string, m Message) (Notification, bool) {
	key := dedupKey(path, &m)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if n, ok := s.byKey[key]; ok {
		n.Deliveries++
		n.LastDeliveryAt = now
		return *n, false
	}
	s.seq++
	n := &Notification{Seq: s.seq, ReceivedAt: now, Path: path, TotalAlerts: len(m.Alerts) + m.TruncatedAlerts,
		Deliveries: 1, LastDeliveryAt: now, Message: m, key: key}
	s.byKey[key] = n
	s.recent = append(s.recent, n)
	if len(s.recent) > s.limit {
		delete(s.byKey, s.recent[0].key)
		s.recent = s.recent[1:]
	}
	if b, err := json.Marshal(n); err == nil {
		fmt.Fprintf(s.out, "%s\n", b)
	}
	return *n, true
}

// Notifications returns the recorded notifications, oldest first, optionally
// only those of one path or one status.
func (s *Sink) Notifications(path, status string) []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Notification{}
	for _, n := range s.recent {
		if (path == "" || n.Path == path) && (status == "" || n.Message.Status == status) {
			out = append(out, *n)
		}
	}
	return out
}

// Handler serves POST /webhook/{path}, GET /api/notifications, GET / and
// GET /healthz.
func (s *Sink) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook/{path}", s.webhook)
	mux.HandleFunc("GET /api/notifications", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Notifications(r.URL.Query().Get("path"), r.URL.Query().Get("status")))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /{$}", s.page)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Sink) webhook(w http.ResponseWriter, r *http.Request) {
	path := r.PathValue("path")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		status := http.StatusBadRequest
		if errors.As(err, &mbe) {
			status = http.StatusRequestEntityTooLarge
		}
		writeJSON(w, status, map[string]any{"error": map[string]string{"code": "unreadable_body", "message": err.Error()}})
		return
	}
	var m Message
	// Lenient on purpose: unknown fields are ignored and trailing
	// whitespace (Alertmanager ends the body with a newline) is fine.
	if err := json.Unmarshal(body, &m); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid_json", "message": err.Error()}})
		return
	}
	if len(m.Alerts) == 0 && m.TruncatedAlerts == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "no_alerts", "message": "a notification lists at least one alert"}})
		return
	}
	if m.Version != "" && m.Version != "4" {
		s.log.Warn("webhook payload of an unknown version; recording it anyway", "version", m.Version)
	}
	n, isNew := s.Record(path, m)
	if isNew {
		s.log.Info("notification", "path", path, "status", m.Status, "alertname", m.CommonLabels["alertname"],
			"alerts", n.TotalAlerts, "receiver", m.Receiver)
	}
	writeJSON(w, http.StatusOK, map[string]any{"recorded": isNew, "seq": n.Seq, "alerts": n.TotalAlerts})
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"ago":  func(t time.Time) string { return time.Since(t).Round(time.Second).String() },
	"itoa": strconv.Itoa,
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="10"><title>CretoAI alert sink</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}.firing{color:#b00}.resolved{color:#070}</style></head>
<body><h1>Alert notifications</h1><p>Newest first; refreshes every 10 s. JSON: <a href="/api/notifications">/api/notifications</a></p>
<table><tr><th>#</th><th>received</th><th>path</th><th>status</th><th>alerts</th><th>details</th></tr>
{{range .}}<tr><td>{{.Seq}}</td><td>{{ago .ReceivedAt}} ago{{if gt .Deliveries 1}}<br>({{itoa .Deliveries}} deliveries){{end}}</td><td>{{.Path}}</td><td class="{{.Message.Status}}">{{.Message.Status}}</td><td>{{itoa .TotalAlerts}}</td>
<td>{{range .Message.Alerts}}<p><b>{{index .Labels "alertname"}}</b> <span class="{{.Status}}">{{.Status}}</span>
{{range $k, $v := .Labels}}{{if ne $k "alertname"}} {{$k}}={{$v}}{{end}}{{end}}<br>
{{index .Annotations "summary"}} {{index .Annotations "description"}}
{{with index .Annotations "runbook_url"}}<br><a href="{{.}}">runbook</a>{{end}}{{with index .Annotations "dashboard_url"}} · dashboard: {{.}}{{end}}</p>{{end}}</td></tr>
{{else}}<tr><td colspan="6">No notifications yet.</td></tr>{{end}}</table></body></html>`))

func (s *Sink) page(w http.ResponseWriter, r *http.Request) {
	ns := s.Notifications("", "")
	slices.Reverse(ns)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTmpl.Execute(w, ns); err != nil {
		s.log.Error("render page", "err", err)
	}
}
