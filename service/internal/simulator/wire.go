package simulator

import (
	"encoding/json"
	"time"
)

// The JSON shapes of the public API that the simulator sends and reads. They
// are written here from DESIGN.md §3 and the API's responses, not imported
// from the service, so that the simulator stays a client of the contract.

// Request bodies.
type (
	registerBody struct {
		NodeID        string `json:"node_id"`
		PayoutAddress string `json:"payout_address,omitempty"`
	}
	updateBody struct {
		PayoutAddress string `json:"payout_address"`
	}
	amountBody struct {
		Amount uint64 `json:"amount"`
	}
	violationBody struct {
		Type     string `json:"type"`
		Evidence string `json:"evidence,omitempty"`
	}
	batchEvent struct {
		NodeID string `json:"node_id"`
		Type   string `json:"type"`
		Count  uint32 `json:"count"`
	}
	batchViolation struct {
		NodeID   string `json:"node_id"`
		Type     string `json:"type"`
		Evidence string `json:"evidence,omitempty"`
	}
	batchBody struct {
		Events     []batchEvent     `json:"events,omitempty"`
		Violations []batchViolation `json:"violations,omitempty"`
	}
)

// nodeView is the part of a node's state the simulator reads.
type nodeView struct {
	NodeID        string    `json:"node_id"`
	PayoutAddress string    `json:"payout_address"`
	RegisteredAt  time.Time `json:"registered_at"`
	Reputation    struct {
		Score      float64           `json:"score"`
		Events     map[string]uint64 `json:"events"`
		Violations map[string]uint64 `json:"violations"`
	} `json:"reputation"`
	Stake struct {
		Bonded    uint64 `json:"bonded"`
		Unbonding uint64 `json:"unbonding"`
		Deposited uint64 `json:"deposited"`
		Withdrawn uint64 `json:"withdrawn"`
		Slashed   uint64 `json:"slashed"`
	} `json:"stake"`
	Rewards struct {
		Earned        uint64 `json:"earned"`
		Pending       uint64 `json:"pending"`
		Paid          uint64 `json:"paid"`
		FailedPayouts uint64 `json:"failed_payouts"`
		LastFailure   string `json:"last_failure"`
	} `json:"rewards"`
}

// nodeList is the body of GET /api/v1/nodes.
type nodeList struct {
	Count int        `json:"count"`
	Nodes []nodeView `json:"nodes"`
}

// stakeResult is the body of a deposit or withdrawal answer.
type stakeResult struct {
	Amount    uint64 `json:"amount"`
	Bonded    uint64 `json:"bonded"`
	Unbonding uint64 `json:"unbonding"`
}

// violationResult is the body of a single violation answer.
type violationResult struct {
	Score   float64 `json:"score"`
	Slashed uint64  `json:"slashed"`
	Bonded  uint64  `json:"bonded"`
}

// errorBody is the body of every API error.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// Summary is the part of GET /api/v1/summary the simulator reports.
type Summary struct {
	Nodes struct {
		Total      int `json:"total"`
		Reliable   int `json:"reliable"`
		Unreliable int `json:"unreliable"`
	} `json:"nodes"`
	Reputation struct {
		Mean      float64 `json:"mean"`
		Median    float64 `json:"median"`
		Lowest    float64 `json:"lowest"`
		Highest   float64 `json:"highest"`
		Threshold float64 `json:"threshold"`
	} `json:"reputation"`
	Stake struct {
		Bonded             uint64 `json:"bonded"`
		Unbonding          uint64 `json:"unbonding"`
		PendingWithdrawals int    `json:"pending_withdrawals"`
		Deposited          uint64 `json:"deposited"`
		Withdrawn          uint64 `json:"withdrawn"`
		Slashed            uint64 `json:"slashed"`
	} `json:"stake"`
	Rewards struct {
		Epoch     uint64 `json:"epoch"`
		Pending   uint64 `json:"pending"`
		Paid      uint64 `json:"paid"`
		Allocated uint64 `json:"allocated"`
	} `json:"rewards"`
}

// apiError reads the error code and field of an error answer ("" when the
// body is not an API error).
func apiError(body []byte) (code, field, message string) {
	var e errorBody
	if json.Unmarshal(body, &e) != nil {
		return "", "", ""
	}
	return e.Error.Code, e.Error.Field, e.Error.Message
}

// mustJSON encodes a value the simulator built itself; it cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("simulator: encode request body: " + err.Error())
	}
	return b
}
