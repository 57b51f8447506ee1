// Package reputation holds the score arithmetic of the book: events and
// violations move a node's score, idle nodes decay toward the initial score,
// and a node at or above the threshold is reliable. It is pure: no clock, no
// state, no I/O.
package reputation

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// EventType is one of the closed set of behaviour reports a node can receive.
type EventType string

// The known event types. Live events count as "up" for the uptime of an epoch,
// the others as "missed".
const (
	BlockProposed  EventType = "block_proposed"
	BlockValidated EventType = "block_validated"
	VoteCast       EventType = "vote_cast"
	Heartbeat      EventType = "heartbeat"
	MissedBlock    EventType = "missed_block"
	LateResponse   EventType = "late_response"
)

// EventTypes lists every event type in a fixed order (the order of the
// per-node counters).
var EventTypes = []EventType{BlockProposed, BlockValidated, VoteCast, Heartbeat, MissedBlock, LateResponse}

// Live reports whether the event shows the node doing its job.
func (e EventType) Live() bool {
	switch e {
	case BlockProposed, BlockValidated, VoteCast, Heartbeat:
		return true
	}
	return false
}

// Index returns the position of e in EventTypes, or -1 when e is unknown.
func (e EventType) Index() int {
	for i, t := range EventTypes {
		if t == e {
			return i
		}
	}
	return -1
}

// ViolationType is one of the closed set of protocol violations.
type ViolationType string

// The known violation types.
const (
	DoubleSign        ViolationType = "double_sign"
	Equivocation      ViolationType = "equivocation"
	InvalidBlock      ViolationType = "invalid_block"
	Downtime          ViolationType = "downtime"
	Censorship        ViolationType = "censorship"
	ProtocolViolation ViolationType = "protocol_violation"
)

// ViolationTypes lists every violation type in a fixed order.
var ViolationTypes = []ViolationType{DoubleSign, Equivocation, InvalidBlock, Downtime, Censorship, ProtocolViolation}

// Index returns the position of v in ViolationTypes, or -1 when v is unknown.
func (v ViolationType) Index() int {
	for i, t := range ViolationTypes {
		if t == v {
			return i
		}
	}
	return -1
}

// Params are the configured weights of the score arithmetic.
type Params struct {
	// Initial is the score of a new node and the target of decay.
	Initial float64
	// Threshold is the score at or above which a node is reliable.
	Threshold float64
	// HalfLife is the time an idle node needs to halve its distance to Initial.
	HalfLife time.Duration
	// EventDeltas is the score change of one event of each type.
	EventDeltas map[EventType]float64
	// Penalties is the score lost per violation of each type (positive numbers).
	Penalties map[ViolationType]float64
}

// DefaultParams returns the documented defaults.
func DefaultParams() Params {
	return Params{
		Initial:   0.5,
		Threshold: 0.7,
		HalfLife:  24 * time.Hour,
		EventDeltas: map[EventType]float64{
			BlockProposed:  0.01,
			BlockValidated: 0.005,
			VoteCast:       0.002,
			Heartbeat:      0.001,
			MissedBlock:    -0.02,
			LateResponse:   -0.005,
		},
		Penalties: map[ViolationType]float64{
			DoubleSign:        0.5,
			Equivocation:      0.4,
			InvalidBlock:      0.2,
			Downtime:          0.1,
			Censorship:        0.3,
			ProtocolViolation: 0.15,
		},
	}
}

// Validate reports the first parameter that is out of range.
func (p Params) Validate() error {
	unit := func(name string, v float64) error {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return fmt.Errorf("%s must be in [0, 1], got %v", name, v)
		}
		return nil
	}
	if err := unit("initial score", p.Initial); err != nil {
		return err
	}
	if err := unit("reliability threshold", p.Threshold); err != nil {
		return err
	}
	if p.HalfLife <= 0 {
		return errors.New("decay half-life must be positive")
	}
	for _, t := range EventTypes {
		d, ok := p.EventDeltas[t]
		if !ok {
			return fmt.Errorf("event delta for %q is missing", t)
		}
		if math.IsNaN(d) || d < -1 || d > 1 {
			return fmt.Errorf("event delta for %q must be in [-1, 1], got %v", t, d)
		}
	}
	for _, v := range ViolationTypes {
		d, ok := p.Penalties[v]
		if !ok {
			return fmt.Errorf("penalty for %q is missing", v)
		}
		if err := unit(fmt.Sprintf("penalty for %q", v), d); err != nil {
			return err
		}
	}
	return nil
}

// Clamp keeps a score inside [0, 1]. NaN, which no valid input produces,
// becomes 0 so that a bug can never publish NaN.
func Clamp(s float64) float64 {
	switch {
	case math.IsNaN(s), s < 0:
		return 0
	case s > 1:
		return 1
	}
	return s
}

// ApplyEvent returns the score after count events of type t. Each event adds
// the same delta, so clamping the sum once equals clamping after every event.
func (p Params) ApplyEvent(score float64, t EventType, count uint32) float64 {
	return Clamp(score + p.EventDeltas[t]*float64(count))
}

// ApplyViolation returns the score after one violation of type v.
func (p Params) ApplyViolation(score float64, v ViolationType) float64 {
	return Clamp(score - p.Penalties[v])
}

// Decay moves score toward Initial as if the node had been idle for elapsed:
// the distance to Initial halves every HalfLife. Decaying by a then by b equals
// decaying by a+b, so a periodic job and one catch-up after downtime agree.
func (p Params) Decay(score float64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return Clamp(score)
	}
	factor := math.Exp2(-elapsed.Seconds() / p.HalfLife.Seconds())
	return Clamp(p.Initial + (score-p.Initial)*factor)
}

// Reliable reports whether score is at or above the threshold.
func (p Params) Reliable(score float64) bool {
	return score >= p.Threshold
}
