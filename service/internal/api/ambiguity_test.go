package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// Bodies encoding/json would silently accept are refused: a key given twice
// (the last would win) and a key differing from the API's names only by case.
func TestAmbiguousBodiesAreRejected(t *testing.T) {
	h := newHarness(t)
	stakedNode(h)
	before := h.state()
	for name, tc := range map[string]struct {
		path, body, code, field string
	}{
		"duplicate amount":       {"/api/v1/nodes/n1/deposits", `{"amount":5,"amount":7}`, "duplicate_field", "amount"},
		"upper-case amount":      {"/api/v1/nodes/n1/deposits", `{"Amount":7}`, "unknown_field", "Amount"},
		"both cases":             {"/api/v1/nodes/n1/deposits", `{"amount":5,"Amount":7}`, "unknown_field", "Amount"},
		"duplicate type":         {"/api/v1/nodes/n1/events", `{"type":"heartbeat","type":"missed_block"}`, "duplicate_field", "type"},
		"case-shadowed type":     {"/api/v1/nodes/n1/events", `{"type":"heartbeat","Type":"missed_block"}`, "unknown_field", "Type"},
		"duplicate events array": {"/api/v1/batch", `{"events":[{"node_id":"n1","type":"heartbeat"}],"events":[]}`, "duplicate_field", "events"},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, h.do(http.MethodPost, tc.path, tc.body), http.StatusBadRequest, tc.code, tc.field)
			equal(t, "state after a refused request", h.state(), before)
		})
	}
}

func TestIdempotencyKeyHeaderShape(t *testing.T) {
	h := newHarness(t)
	stakedNode(h)
	before := h.state()
	// An empty key is a mistake, not "no key": refuse rather than apply
	// the change unprotected.
	wantError(t, send(t, h, "/api/v1/nodes/n1/deposits", `{"amount":5}`, []string{""}), http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key")
	wantError(t, send(t, h, "/api/v1/nodes/n1/deposits", `{"amount":5}`, []string{"a", "b"}), http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key")
	equal(t, "state after refused keys", h.state(), before)
}

// send posts body with the given Idempotency-Key header values.
func send(t *testing.T, h *harness, path, body string, keys []string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header["Idempotency-Key"] = keys
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: []byte(b.String())}
}

func TestHeadOnReads(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/api/v1/summary", "/api/v1/nodes", "/healthz", "/readyz"} {
		if r := h.do(http.MethodHead, p, "", "Authorization", ""); r.status != http.StatusOK {
			t.Errorf("HEAD %s: %d", p, r.status)
		}
	}
}

func TestMethodNotAllowedListsAllowed(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.MethodPut, "/api/v1/summary", "")
	wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed", "")
	if got := r.header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
	}
	r = h.do(http.MethodPut, "/api/v1/nodes/n1", "")
	if got := r.header.Get("Allow"); got != "GET, HEAD, PATCH, DELETE" {
		t.Errorf("Allow = %q, want %q", got, "GET, HEAD, PATCH, DELETE")
	}
}
