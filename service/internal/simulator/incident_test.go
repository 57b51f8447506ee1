package simulator

import (
	"strings"
	"testing"
	"time"
)

func TestParseIncident(t *testing.T) {
	tests := []struct {
		in   string
		want Incident
	}{
		{"double-sign:node-03", Incident{DoubleSign, "node-03", 0}},
		{"reputation-collapse:node-11@90s", Incident{ReputationCollapse, "node-11", 90 * time.Second}},
		{"mass-withdrawal:node-007@1m30s", Incident{MassWithdrawal, "node-007", 90 * time.Second}},
		{"payouts-failing:node-5@0s", Incident{PayoutsFailing, "node-5", 0}},
		{"node-silent:node-09@250ms", Incident{NodeSilent, "node-09", 250 * time.Millisecond}},
		{"  node-silent:node-09  ", Incident{NodeSilent, "node-09", 0}},
		// Node ids may hold ':'; the first ':' ends the kind.
		{"double-sign:eu:validator.7@2m", Incident{DoubleSign, "eu:validator.7", 2 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseIncident(tt.in)
			if err != nil {
				t.Fatalf("ParseIncident(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseIncident(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			back, err := ParseIncident(got.String())
			if err != nil || back != got {
				t.Fatalf("round trip of %q through %q = %+v, %v", tt.in, got.String(), back, err)
			}
		})
	}
}

func TestParseIncidentRejects(t *testing.T) {
	tests := []struct {
		in      string
		mention string // the error names the problem
	}{
		{"", "want kind:node_id"},
		{"double-sign", "want kind:node_id"},
		{"double-sign:", "node id"},
		{"doublesign:node-03", "unknown kind"},
		{"Double-Sign:node-03", "unknown kind"},
		{":node-03", "unknown kind"},
		{"double-sign:node-03@", "delay"},
		{"double-sign:node-03@soon", "delay"},
		{"double-sign:node-03@10", "delay"},
		{"double-sign:node-03@-5s", "negative"},
		{"double-sign:node 03", "node id"},
		{"double-sign:node/03", "node id"},
		{"double-sign:@5s", "node id"},
		{"double-sign:" + strings.Repeat("n", 65), "node id"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseIncident(tt.in)
			if err == nil {
				t.Fatalf("ParseIncident(%q) succeeded, want an error", tt.in)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("ParseIncident(%q) error %q does not mention %q", tt.in, err, tt.mention)
			}
		})
	}
}

func TestIncidentsFlag(t *testing.T) {
	var l Incidents
	if err := l.Set("double-sign:node-03@1s, node-silent:node-09"); err != nil {
		t.Fatal(err)
	}
	if err := l.Set("payouts-failing:node-05"); err != nil {
		t.Fatal(err)
	}
	want := "double-sign:node-03@1s,node-silent:node-09,payouts-failing:node-05"
	if got := l.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if err := l.Set("node-silent:node-09,bogus:node-1"); err == nil {
		t.Fatal("Set accepted an unknown kind")
	}
}

func TestNodeIDs(t *testing.T) {
	tests := []struct {
		i, n int
		want string
	}{
		{0, 1, "node-1"},
		{8, 9, "node-9"},
		{0, 20, "node-01"},
		{19, 20, "node-20"},
		{0, 50, "node-01"},
		{49, 100, "node-050"},
		{0, 1000, "node-0001"},
	}
	for _, tt := range tests {
		if got := NodeID(tt.i, tt.n); got != tt.want {
			t.Errorf("NodeID(%d, %d) = %q, want %q", tt.i, tt.n, got, tt.want)
		}
	}
}

func TestIncidentNodeResolution(t *testing.T) {
	tests := []struct {
		id   string
		n    int
		want string // "" when not a simulated node
	}{
		{"node-03", 20, "node-03"},
		{"node-3", 20, "node-03"},
		{"node-003", 20, "node-03"},
		{"node-20", 20, "node-20"},
		{"node-21", 20, ""},
		{"node-00", 20, ""},
		{"node-", 20, ""},
		{"node-x1", 20, ""},
		{"validator-03", 20, ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			cfg := testPlanConfig(1)
			cfg.Nodes = tt.n
			cfg.Incidents = []Incident{{Kind: NodeSilent, NodeID: tt.id}}
			p, err := NewPlan(cfg)
			switch {
			case tt.want == "" && err == nil:
				t.Fatalf("NewPlan accepted incident node %q in a network of %d", tt.id, tt.n)
			case tt.want == "":
				if !strings.Contains(err.Error(), "not a simulated node") {
					t.Fatalf("error %q does not say why", err)
				}
			case err != nil:
				t.Fatalf("NewPlan: %v", err)
			default:
				if got := p.Incidents()[0].NodeID; got != tt.want {
					t.Fatalf("incident node %q resolved to %q, want %q", tt.id, got, tt.want)
				}
			}
		})
	}
}
