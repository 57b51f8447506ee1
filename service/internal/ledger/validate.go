package ledger

import (
	"unicode/utf8"

	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/stake"
)

// Input limits.
const (
	MaxNodeIDLen        = 64
	MaxPayoutAddressLen = 128
	MaxEvidenceLen      = 1024
	MaxEventCount       = 10_000
	MaxBatchItems       = 10_000
)

// ValidNodeID reports whether id is 1–64 bytes of [A-Za-z0-9._:-]. Ids are
// case-sensitive and used as label values exactly as given.
func ValidNodeID(id string) bool { return validToken(id, MaxNodeIDLen) }

// ValidPayoutAddress reports whether a is 1–128 bytes of [A-Za-z0-9._:-].
func ValidPayoutAddress(a string) bool { return validToken(a, MaxPayoutAddressLen) }

func validToken(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

func checkNodeID(id string) *Error {
	if !ValidNodeID(id) {
		return invalid("invalid_node_id", "node_id", "node_id must be 1-%d characters of [A-Za-z0-9._:-]", MaxNodeIDLen)
	}
	return nil
}

func checkAmount(field string, amount uint64) *Error {
	if amount == 0 || amount > stake.MaxAmount {
		return invalid("invalid_amount", field, "%s must be an integer in [1, %d]", field, stake.MaxAmount)
	}
	return nil
}

// Event is one event report.
type Event struct {
	NodeID string               `json:"node_id"`
	Type   reputation.EventType `json:"type"`
	Count  uint32               `json:"count"`
}

// Violation is one violation report.
type Violation struct {
	NodeID   string                   `json:"node_id"`
	Type     reputation.ViolationType `json:"type"`
	Evidence string                   `json:"evidence,omitempty"`
}

func (e Event) check(field string) *Error {
	if err := checkNodeID(e.NodeID); err != nil {
		err.Field = field + "node_id"
		return err
	}
	if e.Type.Index() < 0 {
		return invalid("unknown_event_type", field+"type", "unknown event type %q; known: %v", e.Type, reputation.EventTypes)
	}
	if e.Count < 1 || e.Count > MaxEventCount {
		return invalid("invalid_count", field+"count", "count must be in [1, %d]", MaxEventCount)
	}
	return nil
}

func (v Violation) check(field string) *Error {
	if err := checkNodeID(v.NodeID); err != nil {
		err.Field = field + "node_id"
		return err
	}
	if v.Type.Index() < 0 {
		return invalid("unknown_violation_type", field+"type", "unknown violation type %q; known: %v", v.Type, reputation.ViolationTypes)
	}
	if len(v.Evidence) > MaxEvidenceLen || !utf8.ValidString(v.Evidence) {
		return invalid("invalid_evidence", field+"evidence", "evidence must be valid UTF-8 of at most %d bytes", MaxEvidenceLen)
	}
	return nil
}
