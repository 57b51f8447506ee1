package alertsink_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/alertsink"
)

const firing = `{"version":"4","groupKey":"{}:{alertname=\"DoubleSignDetected\",node_id=\"n1\"}","truncatedAlerts":0,
"status":"firing","receiver":"critical","groupLabels":{"alertname":"DoubleSignDetected","node_id":"n1"},
"commonLabels":{"alertname":"DoubleSignDetected","node_id":"n1","severity":"critical"},
"commonAnnotations":{"summary":"A node signed two different blocks at the same height."},
"externalURL":"http://alertmanager:9093",
"alerts":[{"status":"firing","labels":{"alertname":"DoubleSignDetected","node_id":"n1","severity":"critical"},
"annotations":{"runbook_url":"https://example/runbooks.md#doublesigndetected"},"startsAt":"2026-12-03T10:00:00Z",
"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph","fingerprint":"abc123"}]}`

func newServer(t *testing.T) (*alertsink.Sink, *httptest.Server, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	s := alertsink.New(slog.New(slog.DiscardHandler), &out, 100)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv, &out
}

func postBody(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

// R35: a firing notification carries the zero endsAt; the sink accepts it,
// then the resolved one for the same group is recorded separately.
func TestFiringThenResolved(t *testing.T) {
	s, srv, out := newServer(t)
	if code, _ := postBody(t, srv.URL+"/webhook/critical", firing); code != http.StatusOK {
		t.Fatalf("firing: %d", code)
	}
	resolved := strings.ReplaceAll(strings.ReplaceAll(firing, `"status":"firing"`, `"status":"resolved"`),
		`"endsAt":"0001-01-01T00:00:00Z"`, `"endsAt":"2026-12-03T10:05:00Z"`)
	if code, _ := postBody(t, srv.URL+"/webhook/critical", resolved); code != http.StatusOK {
		t.Fatalf("resolved: %d", code)
	}
	ns := s.Notifications("critical", "")
	if len(ns) != 2 || ns[0].Message.Status != "firing" || ns[1].Message.Status != "resolved" {
		t.Fatalf("notifications: %+v", ns)
	}
	if !ns[0].Message.Alerts[0].EndsAt.IsZero() {
		t.Errorf("firing endsAt = %v, want the zero time", ns[0].Message.Alerts[0].EndsAt)
	}
	if ns[0].Message.Alerts[0].Fingerprint != ns[1].Message.Alerts[0].Fingerprint {
		t.Error("firing and resolved should share the fingerprint")
	}
	if lines := strings.Count(out.String(), "\n"); lines != 2 {
		t.Errorf("stdout has %d JSON lines, want 2:\n%s", lines, out)
	}
}

// R38: Alertmanager retries a notification that got a 5xx or timed out; the
// sink records it once and counts the deliveries.
func TestRetriesRecordedOnce(t *testing.T) {
	s, srv, _ := newServer(t)
	for i := 0; i < 3; i++ {
		_, v := postBody(t, srv.URL+"/webhook/critical", firing)
		if got := v["recorded"]; got != (i == 0) {
			t.Errorf("delivery %d: recorded=%v", i, got)
		}
	}
	ns := s.Notifications("", "")
	if len(ns) != 1 || ns[0].Deliveries != 3 {
		t.Fatalf("want one notification with 3 deliveries, got %+v", ns)
	}
	// A new firing of the same alert (new startsAt) is a new notification.
	again := strings.Replace(firing, `"startsAt":"2026-12-03T10:00:00Z"`, `"startsAt":"2026-12-03T11:00:00Z"`, 1)
	postBody(t, srv.URL+"/webhook/critical", again)
	if n := len(s.Notifications("", "")); n != 2 {
		t.Errorf("after a new start: %d notifications, want 2", n)
	}
}

// R38: the answer is fast whatever the payload.
func TestAnswersFast(t *testing.T) {
	_, srv, _ := newServer(t)
	start := time.Now()
	postBody(t, srv.URL+"/webhook/default", firing)
	if d := time.Since(start); d > time.Second {
		t.Errorf("answer took %v", d)
	}
}

// R39: version 4 with a trailing newline, truncated alerts and an unknown
// top-level field is accepted; the total counts the truncated alerts.
func TestPayloadEdgeCases(t *testing.T) {
	s, srv, _ := newServer(t)
	two := strings.Replace(firing, `"truncatedAlerts":0`, `"truncatedAlerts":3,"somethingNew":{"x":1}`, 1)
	two = strings.Replace(two, `"alerts":[{`, `"alerts":[{"status":"firing","labels":{"alertname":"X","node_id":"n2"},"fingerprint":"def456","startsAt":"2026-12-03T10:00:00Z"},{`, 1)
	code, v := postBody(t, srv.URL+"/webhook/default", two+"\n")
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, v)
	}
	ns := s.Notifications("default", "")
	if len(ns) != 1 || ns[0].TotalAlerts != 5 {
		t.Fatalf("want 5 alerts (2 listed + 3 truncated), got %+v", ns)
	}
	for _, bad := range []string{"", "{", "[1,2]", `{"alerts":"x"}`, `{}`, `null`, `{"status":"firing","alerts":[]}`} {
		if code, v := postBody(t, srv.URL+"/webhook/default", bad); code != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400 (%v)", bad, code, v)
		}
	}
}

func TestPageAndAPI(t *testing.T) {
	_, srv, _ := newServer(t)
	postBody(t, srv.URL+"/webhook/critical", firing)
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "DoubleSignDetected") ||
		!strings.Contains(string(body), `href="https://example/runbooks.md#doublesigndetected"`) || !strings.Contains(string(body), "node_id=n1") {
		t.Errorf("page: %d\n%s", resp.StatusCode, body)
	}
	resp, err = http.Get(srv.URL + "/api/notifications?status=firing")
	if err != nil {
		t.Fatal(err)
	}
	var ns []alertsink.Notification
	if err := json.NewDecoder(resp.Body).Decode(&ns); err != nil || len(ns) != 1 {
		t.Errorf("api: %v %+v", err, ns)
	}
	resp.Body.Close()
}

func TestMemoryIsBounded(t *testing.T) {
	s := alertsink.New(slog.New(slog.DiscardHandler), io.Discard, 5)
	for i := 0; i < 20; i++ {
		s.Record("default", alertsink.Message{GroupKey: "g", Status: "firing",
			Alerts: []alertsink.Alert{{Fingerprint: "f", StartsAt: time.Unix(int64(i), 0)}}})
	}
	ns := s.Notifications("", "")
	if len(ns) != 5 || ns[0].Seq != 16 {
		t.Fatalf("kept %d notifications starting at %d, want the last 5", len(ns), ns[0].Seq)
	}
}
