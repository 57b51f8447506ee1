//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/e2e/stack"
)

// waitFor polls cond every 500 ms until it returns true or timeout passes;
// the last message explains the failure.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < timeout {
		ok, msg := cond()
		if ok {
			return time.Since(start)
		}
		last = msg
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v: %s", what, timeout, last)
	return 0
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, b)
	}
}

// api sends a write to the service and fails the test unless it is 2xx.
func api(t *testing.T, s *stack.Stack, method, path, body string) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL("service")+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+stack.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s %s: %d %s", method, path, body, resp.StatusCode, b)
	}
	return b
}

// sample is one element of an instant query's vector result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant PromQL query and returns its vector or scalar
// result as samples.
func query(t *testing.T, s *stack.Stack, q string) ([]sample, error) {
	t.Helper()
	resp, err := http.Get(s.URL("prometheus") + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", q, r.Error)
	}
	switch r.Data.ResultType {
	case "vector":
		var v []sample
		err := json.Unmarshal(r.Data.Result, &v)
		return v, err
	case "scalar":
		var sc [2]any
		if err := json.Unmarshal(r.Data.Result, &sc); err != nil {
			return nil, err
		}
		return []sample{{Value: sc}}, nil
	}
	return nil, fmt.Errorf("%s: result type %s", q, r.Data.ResultType)
}

// notification is what the alert sink recorded.
type notification struct {
	Seq        int       `json:"seq"`
	ReceivedAt time.Time `json:"received_at"`
	Path       string    `json:"path"`
	Deliveries int       `json:"deliveries"`
	Message    struct {
		Status       string            `json:"status"`
		CommonLabels map[string]string `json:"commonLabels"`
		Alerts       []struct {
			Status      string            `json:"status"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			EndsAt      time.Time         `json:"endsAt"`
			Fingerprint string            `json:"fingerprint"`
		} `json:"alerts"`
	} `json:"message"`
}

func notifications(t *testing.T, s *stack.Stack) []notification {
	t.Helper()
	var ns []notification
	getJSON(t, s.URL("sink")+"/api/notifications", &ns)
	return ns
}

// findNotification returns the first notification on path with status
// carrying an alert with all the given labels.
func findNotification(ns []notification, path, status string, labels map[string]string) (notification, bool) {
	for _, n := range ns {
		if n.Path != path || n.Message.Status != status {
			continue
		}
		for _, a := range n.Message.Alerts {
			match := true
			for k, v := range labels {
				match = match && a.Labels[k] == v
			}
			if match {
				return n, true
			}
		}
	}
	return notification{}, false
}

// amAlert is an alert as Alertmanager's v2 API shows it.
type amAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

func alertmanagerAlerts(t *testing.T, s *stack.Stack) []amAlert {
	t.Helper()
	var as []amAlert
	getJSON(t, s.URL("alertmanager")+"/api/v2/alerts", &as)
	return as
}

func findAMAlert(as []amAlert, alertname, nodeID string) (amAlert, bool) {
	for _, a := range as {
		if a.Labels["alertname"] == alertname && a.Labels["node_id"] == nodeID {
			return a, true
		}
	}
	return amAlert{}, false
}

// scrapeService returns the service's own /metrics text.
func scrapeService(t *testing.T, s *stack.Stack) string {
	t.Helper()
	resp, err := http.Get(s.URL("service") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = io.Copy(&b, resp.Body)
	return b.String()
}
