package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/stake"
)

// Request bodies.
type (
	registerRequest struct {
		NodeID        string `json:"node_id"`
		PayoutAddress string `json:"payout_address"`
	}
	updateRequest struct {
		PayoutAddress *string `json:"payout_address"`
	}
	eventRequest struct {
		Type  string `json:"type"`
		Count *int64 `json:"count"`
	}
	violationRequest struct {
		Type     string `json:"type"`
		Evidence string `json:"evidence"`
	}
	amountRequest struct {
		Amount json.RawMessage `json:"amount"`
	}
	epochRequest struct {
		Pool json.RawMessage `json:"pool"`
	}
	batchEvent struct {
		NodeID string `json:"node_id"`
		Type   string `json:"type"`
		Count  *int64 `json:"count"`
	}
	batchViolation struct {
		NodeID   string `json:"node_id"`
		Type     string `json:"type"`
		Evidence string `json:"evidence"`
	}
	batchRequest struct {
		Events     []batchEvent     `json:"events"`
		Violations []batchViolation `json:"violations"`
	}
)

// eventCount converts an optional count; out-of-range values become 0 or a
// value the ledger rejects with a message naming the field.
func eventCount(field string, c *int64) (uint32, error) {
	if c == nil {
		return 1, nil
	}
	if *c < 1 || *c > ledger.MaxEventCount {
		return 0, badRequest("invalid_count", field, "%s must be an integer in [1, %d]", field, ledger.MaxEventCount)
	}
	return uint32(*c), nil
}

func nodeID(r *http.Request) string { return mux.Vars(r)["node_id"] }

// idempotency reads the Idempotency-Key header and fingerprints the request.
func idempotency(r *http.Request, body []byte) (*ledger.Idem, error) {
	keys := r.Header.Values("Idempotency-Key")
	if len(keys) == 0 {
		return nil, nil
	}
	if len(keys) > 1 {
		return nil, badRequest("invalid_idempotency_key", "Idempotency-Key", "send one Idempotency-Key header, not %d", len(keys))
	}
	key := keys[0]
	if key == "" || len(key) > 255 {
		return nil, badRequest("invalid_idempotency_key", "Idempotency-Key", "Idempotency-Key must be 1-255 printable ASCII characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return nil, badRequest("invalid_idempotency_key", "Idempotency-Key", "Idempotency-Key must be 1-255 printable ASCII characters")
		}
	}
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	h.Write(body)
	return &ledger.Idem{Key: key, Fingerprint: hex.EncodeToString(h.Sum(nil))}, nil
}

func replayed(w http.ResponseWriter, yes bool) {
	if yes {
		w.Header().Set("Idempotent-Replayed", "true")
	}
}

func (s *Server) registerNode(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := s.decode(w, r, MaxBodyBytes, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.NodeID == "" {
		writeError(w, r, s.log, badRequest("missing_field", "node_id", "node_id is required"))
		return
	}
	n, err := s.ledger.Register(r.Context(), req.NodeID, req.PayoutAddress)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/nodes/"+url.PathEscape(n.ID))
	writeJSON(w, http.StatusCreated, s.view(&n))
}

func (s *Server) listNodes(w http.ResponseWriter, r *http.Request) {
	sn := s.ledger.Snapshot()
	views := make([]NodeView, len(sn.Nodes))
	for i := range sn.Nodes {
		views[i] = s.view(&sn.Nodes[i])
	}
	writeJSON(w, http.StatusOK, struct {
		Count int        `json:"count"`
		Nodes []NodeView `json:"nodes"`
	}{len(views), views})
}

func (s *Server) getNode(w http.ResponseWriter, r *http.Request) {
	n, err := s.ledger.Get(nodeID(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(&n))
}

func (s *Server) updateNode(w http.ResponseWriter, r *http.Request) {
	var req updateRequest
	if err := s.decode(w, r, MaxBodyBytes, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.PayoutAddress == nil {
		writeError(w, r, s.log, badRequest("missing_field", "payout_address", "payout_address is required (\"\" clears it)"))
		return
	}
	n, err := s.ledger.SetPayoutAddress(r.Context(), nodeID(r), *req.PayoutAddress)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(&n))
}

func (s *Server) removeNode(w http.ResponseWriter, r *http.Request) {
	force := false
	if v := r.URL.Query().Get("force"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, r, s.log, badRequest("invalid_query", "force", "force must be true or false"))
			return
		}
		force = b
	}
	if err := s.ledger.Remove(r.Context(), nodeID(r), force); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) recordEvent(w http.ResponseWriter, r *http.Request) {
	var req eventRequest
	if err := s.decode(w, r, MaxBodyBytes, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	count, err := eventCount("count", req.Count)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.ledger.RecordEvent(r.Context(), ledger.Event{NodeID: nodeID(r), Type: reputation.EventType(req.Type), Count: count})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) recordViolation(w http.ResponseWriter, r *http.Request) {
	var req violationRequest
	if err := s.decode(w, r, MaxBodyBytes, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.ledger.RecordViolation(r.Context(), ledger.Violation{NodeID: nodeID(r), Type: reputation.ViolationType(req.Type), Evidence: req.Evidence})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type stakeOp func(*ledger.Ledger, *http.Request, string, uint64, *ledger.Idem) (ledger.StakeResult, bool, error)

func (s *Server) deposit(w http.ResponseWriter, r *http.Request) {
	s.stakeChange(w, r, func(l *ledger.Ledger, r *http.Request, id string, a uint64, idem *ledger.Idem) (ledger.StakeResult, bool, error) {
		return l.Deposit(r.Context(), id, a, idem)
	})
}

func (s *Server) withdraw(w http.ResponseWriter, r *http.Request) {
	s.stakeChange(w, r, func(l *ledger.Ledger, r *http.Request, id string, a uint64, idem *ledger.Idem) (ledger.StakeResult, bool, error) {
		return l.Withdraw(r.Context(), id, a, idem)
	})
}

func (s *Server) stakeChange(w http.ResponseWriter, r *http.Request, apply stakeOp) {
	body, err := readBody(w, r, MaxBodyBytes, false)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req amountRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	amount, err := parseAmount("amount", req.Amount, false)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	idem, err := idempotency(r, body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, again, err := apply(s.ledger, r, nodeID(r), amount, idem)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	replayed(w, again)
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if err := s.decode(w, r, MaxBatchBodyBytes, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if len(req.Events)+len(req.Violations) > ledger.MaxBatchItems {
		writeError(w, r, s.log, badRequest("batch_too_large", "events", "a batch holds at most %d items", ledger.MaxBatchItems))
		return
	}
	events := make([]ledger.Event, len(req.Events))
	for i, e := range req.Events {
		c, err := eventCount("events["+strconv.Itoa(i)+"].count", e.Count)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		events[i] = ledger.Event{NodeID: e.NodeID, Type: reputation.EventType(e.Type), Count: c}
	}
	violations := make([]ledger.Violation, len(req.Violations))
	for i, v := range req.Violations {
		violations[i] = ledger.Violation{NodeID: v.NodeID, Type: reputation.ViolationType(v.Type), Evidence: v.Evidence}
	}
	res, err := s.ledger.Batch(r.Context(), events, violations)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) runEpoch(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, MaxBodyBytes, true)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req epochRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeStrict(body, &req); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	pool, err := parseAmount("pool", req.Pool, true)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	idem, err := idempotency(r, body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, again, err := s.ledger.RunEpoch(r.Context(), pool, idem)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	replayed(w, again)
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.ledger.Summarize(s.ledger.Snapshot()))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		if err := s.ready(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// decode reads and strictly decodes a required JSON body.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := readBody(w, r, limit, false)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

// NodeView is a node as the API shows it.
type NodeView struct {
	NodeID        string         `json:"node_id"`
	PayoutAddress string         `json:"payout_address"`
	RegisteredAt  time.Time      `json:"registered_at"`
	Reputation    ReputationView `json:"reputation"`
	Stake         StakeView      `json:"stake"`
	Rewards       ledger.Rewards `json:"rewards"`
}

// ReputationView is a node's reputation with derived fields.
type ReputationView struct {
	Score         float64                 `json:"score"`
	Reliable      bool                    `json:"reliable"`
	LastEventAt   time.Time               `json:"last_event_at"`
	EpochUptime   float64                 `json:"epoch_uptime"`
	Events        ledger.EventCounts      `json:"events"`
	Violations    ledger.ViolationCounts  `json:"violations"`
	LastViolation *ledger.ViolationRecord `json:"last_violation,omitempty"`
}

// StakeView is a node's stake with its unbonding total.
type StakeView struct {
	Bonded         uint64            `json:"bonded"`
	Unbonding      uint64            `json:"unbonding"`
	UnbondingQueue []stake.Unbonding `json:"unbonding_queue"`
	Deposited      uint64            `json:"deposited"`
	Withdrawn      uint64            `json:"withdrawn"`
	Slashed        uint64            `json:"slashed"`
	ActiveDeposits uint32            `json:"active_deposits"`
}

func (s *Server) view(n *ledger.Node) NodeView {
	q := n.Stake.Unbonding
	if q == nil {
		q = []stake.Unbonding{}
	}
	return NodeView{
		NodeID:        n.ID,
		PayoutAddress: n.PayoutAddress,
		RegisteredAt:  n.RegisteredAt,
		Reputation: ReputationView{
			Score:         n.Reputation.Score,
			Reliable:      s.ledger.Config().Reputation.Reliable(n.Reputation.Score),
			LastEventAt:   n.Reputation.LastEventAt,
			EpochUptime:   n.Uptime(),
			Events:        n.Reputation.Events,
			Violations:    n.Reputation.Violations,
			LastViolation: n.Reputation.LastViolation,
		},
		Stake: StakeView{
			Bonded:         n.Stake.Bonded,
			Unbonding:      n.Stake.UnbondingTotal(),
			UnbondingQueue: q,
			Deposited:      n.Stake.Deposited,
			Withdrawn:      n.Stake.Withdrawn,
			Slashed:        n.Stake.Slashed,
			ActiveDeposits: n.Stake.ActiveDeposits,
		},
		Rewards: n.Rewards,
	}
}
