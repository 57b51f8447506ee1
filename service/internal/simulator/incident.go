package simulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IncidentKind is one of the scripted failures the simulator can stage.
type IncidentKind string

// The incident kinds.
const (
	// DoubleSign reports one double_sign violation, with evidence, for the node.
	DoubleSign IncidentKind = "double-sign"
	// ReputationCollapse sends the node missed_block bursts and downtime
	// violations until the service reports its score below CollapseScore,
	// then keeps it missing.
	ReputationCollapse IncidentKind = "reputation-collapse"
	// MassWithdrawal withdraws about 90% of the bonded stake of the node and
	// of half of the other nodes.
	MassWithdrawal IncidentKind = "mass-withdrawal"
	// PayoutsFailing clears the payout address of the node and of about 20%
	// of the other nodes, then runs an epoch so that their payouts fail.
	PayoutsFailing IncidentKind = "payouts-failing"
	// NodeSilent stops every report about the node: no more events,
	// violations, deposits or withdrawals.
	NodeSilent IncidentKind = "node-silent"
)

// IncidentKinds lists every incident kind.
var IncidentKinds = []IncidentKind{DoubleSign, ReputationCollapse, MassWithdrawal, PayoutsFailing, NodeSilent}

// Incident is one scripted failure: Kind happens to NodeID once Delay has
// passed since the simulation started.
type Incident struct {
	Kind   IncidentKind
	NodeID string
	Delay  time.Duration
}

// String returns the incident in the form ParseIncident reads.
func (in Incident) String() string {
	if in.Delay == 0 {
		return fmt.Sprintf("%s:%s", in.Kind, in.NodeID)
	}
	return fmt.Sprintf("%s:%s@%s", in.Kind, in.NodeID, in.Delay)
}

// ParseIncident reads `kind:node_id[@delay]`, for example
// "double-sign:node-03@90s". The delay is a Go duration, 0 when omitted.
// The node id is checked for the service's id syntax only; whether it names
// a simulated node is checked when the plan is built.
func ParseIncident(s string) (Incident, error) {
	s = strings.TrimSpace(s)
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Incident{}, fmt.Errorf("incident %q: want kind:node_id[@delay], e.g. double-sign:node-03@30s", s)
	}
	in := Incident{Kind: IncidentKind(kind)}
	if !knownKind(in.Kind) {
		return Incident{}, fmt.Errorf("incident %q: unknown kind %q; known: %s", s, kind, kindList())
	}
	// '@' is not allowed in node ids, so the last one starts the delay.
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		d, err := time.ParseDuration(rest[i+1:])
		if err != nil {
			return Incident{}, fmt.Errorf("incident %q: delay %q is not a duration such as 30s or 2m", s, rest[i+1:])
		}
		if d < 0 {
			return Incident{}, fmt.Errorf("incident %q: delay must not be negative", s)
		}
		in.Delay, rest = d, rest[:i]
	}
	if !validNodeID(rest) {
		return Incident{}, fmt.Errorf("incident %q: node id %q must be 1-64 characters of [A-Za-z0-9._:-]", s, rest)
	}
	in.NodeID = rest
	return in, nil
}

func knownKind(k IncidentKind) bool {
	for _, known := range IncidentKinds {
		if k == known {
			return true
		}
	}
	return false
}

func kindList() string {
	names := make([]string, len(IncidentKinds))
	for i, k := range IncidentKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// validNodeID mirrors the service's node id rule: 1–64 bytes of
// [A-Za-z0-9._:-].
func validNodeID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// Incidents is a repeatable flag value: every Set adds the incidents of a
// comma-separated list.
type Incidents []Incident

// String lists the incidents, comma-separated.
func (l *Incidents) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, len(*l))
	for i, in := range *l {
		parts[i] = in.String()
	}
	return strings.Join(parts, ",")
}

// Set parses a comma-separated list of incidents and appends them.
func (l *Incidents) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		in, err := ParseIncident(part)
		if err != nil {
			return err
		}
		*l = append(*l, in)
	}
	return nil
}

// NodeID returns the id of simulated node i (0-based) in a network of n
// nodes: "node-" and the 1-based number zero-padded to the width of n.
func NodeID(i, n int) string {
	return fmt.Sprintf("node-%0*d", len(strconv.Itoa(n)), i+1)
}

// nodeIndex resolves an incident's node id to a node index of a network of n
// nodes. Besides the exact id it accepts the same number with other padding
// (node-3 or node-003 for node-03), so incidents can be written without
// knowing the width.
func nodeIndex(id string, n int) (int, bool) {
	num, ok := strings.CutPrefix(id, "node-")
	if !ok || num == "" {
		return 0, false
	}
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 1 || v > n {
		return 0, false
	}
	return v - 1, true
}
