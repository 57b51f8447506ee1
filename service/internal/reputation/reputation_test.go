package reputation

import (
	"math"
	"strings"
	"testing"
	"time"
)

const eps = 1e-12

func near(a, b float64) bool { return math.Abs(a-b) <= eps }

func TestDecay(t *testing.T) {
	p := DefaultParams() // Initial 0.5, HalfLife 24h
	hl := p.HalfLife
	tests := []struct {
		name    string
		score   float64
		elapsed time.Duration
		want    float64
	}{
		{"zero elapsed above initial", 0.9, 0, 0.9},
		{"zero elapsed below initial", 0.1, 0, 0.1},
		{"negative elapsed is no decay", 0.9, -time.Hour, 0.9},
		{"one half-life above initial", 0.9, hl, 0.7},
		{"two half-lives above initial", 0.9, 2 * hl, 0.6},
		{"three half-lives above initial", 1, 3 * hl, 0.5625},
		{"one half-life below initial", 0.1, hl, 0.3},
		{"two half-lives below initial", 0.1, 2 * hl, 0.4},
		{"one half-life from zero", 0, hl, 0.25},
		{"half a half-life", 0.9, hl / 2, 0.5 + 0.4/math.Sqrt2},
		{"at initial stays", 0.5, 5 * hl, 0.5},
		{"very long idle reaches initial", 1, 10_000 * hl, 0.5},
		{"out of range input is clamped", 1.5, 0, 1},
		{"NaN input is clamped", math.NaN(), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Decay(tt.score, tt.elapsed)
			if !near(got, tt.want) {
				t.Fatalf("Decay(%v, %v) = %.17g, want %.17g", tt.score, tt.elapsed, got, tt.want)
			}
		})
	}
}

func TestDecayComposes(t *testing.T) {
	p := DefaultParams()
	p.HalfLife = 90 * time.Minute
	tests := []struct {
		name  string
		score float64
		a, b  time.Duration
	}{
		{"above initial, short steps", 0.93, time.Minute, 7 * time.Minute},
		{"above initial, unequal steps", 1, 17 * time.Minute, 3 * time.Hour},
		{"below initial", 0.02, 45 * time.Minute, 45 * time.Minute},
		{"one step zero", 0.8, 0, 2 * time.Hour},
		{"sub-second steps", 0.75, 1500 * time.Millisecond, 3 * time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stepwise := p.Decay(p.Decay(tt.score, tt.a), tt.b)
			once := p.Decay(tt.score, tt.a+tt.b)
			if !near(stepwise, once) {
				t.Fatalf("Decay(Decay(%v, %v), %v) = %.17g, Decay(%v, %v) = %.17g", tt.score, tt.a, tt.b, stepwise, tt.score, tt.a+tt.b, once)
			}
		})
	}
}

func TestApplyEventClamps(t *testing.T) {
	p := DefaultParams()
	tests := []struct {
		name  string
		score float64
		typ   EventType
		count uint32
		want  float64
	}{
		{"one proposal", 0.5, BlockProposed, 1, 0.51},
		{"several validations", 0.5, BlockValidated, 10, 0.55},
		{"missed block", 0.5, MissedBlock, 3, 0.44},
		{"late response", 0.5, LateResponse, 2, 0.49},
		{"huge positive count clamps to 1", 0.5, BlockProposed, 10_000, 1},
		{"max uint32 positive count clamps to 1", 0, Heartbeat, math.MaxUint32, 1},
		{"huge negative count clamps to 0", 0.5, MissedBlock, 10_000, 0},
		{"max uint32 negative count clamps to 0", 1, LateResponse, math.MaxUint32, 0},
		{"exactly reaching 1", 0.9, BlockProposed, 10, 1},
		{"zero count changes nothing", 0.37, BlockProposed, 0, 0.37},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.ApplyEvent(tt.score, tt.typ, tt.count)
			if !near(got, tt.want) {
				t.Fatalf("ApplyEvent(%v, %s, %d) = %.17g, want %v", tt.score, tt.typ, tt.count, got, tt.want)
			}
			if got < 0 || got > 1 {
				t.Fatalf("score %v outside [0, 1]", got)
			}
		})
	}
}

func TestApplyViolationClamps(t *testing.T) {
	p := DefaultParams()
	tests := []struct {
		name  string
		score float64
		typ   ViolationType
		want  float64
	}{
		{"double sign from initial", 0.5, DoubleSign, 0},
		{"double sign from high", 0.9, DoubleSign, 0.4},
		{"equivocation below zero clamps", 0.1, Equivocation, 0},
		{"invalid block", 0.8, InvalidBlock, 0.6},
		{"downtime", 0.5, Downtime, 0.4},
		{"censorship", 1, Censorship, 0.7},
		{"protocol violation", 0.5, ProtocolViolation, 0.35},
		{"from zero stays zero", 0, Downtime, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.ApplyViolation(tt.score, tt.typ)
			if !near(got, tt.want) {
				t.Fatalf("ApplyViolation(%v, %s) = %.17g, want %v", tt.score, tt.typ, got, tt.want)
			}
		})
	}
	t.Run("repeated violations never go below zero", func(t *testing.T) {
		s := 1.0
		for range 100 {
			s = p.ApplyViolation(s, DoubleSign)
		}
		if s != 0 {
			t.Fatalf("score after 100 double signs = %v, want 0", s)
		}
	})
}

func TestClamp(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want float64
	}{
		{"NaN", math.NaN(), 0},
		{"negative infinity", math.Inf(-1), 0},
		{"positive infinity", math.Inf(1), 1},
		{"below zero", -0.1, 0},
		{"above one", 1.1, 1},
		{"zero", 0, 0},
		{"one", 1, 1},
		{"inside", 0.3, 0.3},
		{"smallest positive", math.SmallestNonzeroFloat64, math.SmallestNonzeroFloat64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clamp(tt.in)
			if got != tt.want || math.IsNaN(got) {
				t.Fatalf("Clamp(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Params)
		wantErr string // substring; "" means valid
	}{
		{"defaults are valid", func(*Params) {}, ""},
		{"boundary values are valid", func(p *Params) {
			p.Initial, p.Threshold = 0, 1
			p.EventDeltas[MissedBlock] = -1
			p.EventDeltas[BlockProposed] = 1
			p.Penalties[DoubleSign] = 1
			p.Penalties[Downtime] = 0
		}, ""},
		{"initial below 0", func(p *Params) { p.Initial = -0.01 }, "initial score"},
		{"initial above 1", func(p *Params) { p.Initial = 1.01 }, "initial score"},
		{"initial NaN", func(p *Params) { p.Initial = math.NaN() }, "initial score"},
		{"threshold below 0", func(p *Params) { p.Threshold = -1 }, "reliability threshold"},
		{"threshold above 1", func(p *Params) { p.Threshold = 2 }, "reliability threshold"},
		{"threshold NaN", func(p *Params) { p.Threshold = math.NaN() }, "reliability threshold"},
		{"half-life zero", func(p *Params) { p.HalfLife = 0 }, "half-life"},
		{"half-life negative", func(p *Params) { p.HalfLife = -time.Second }, "half-life"},
		{"event delta missing", func(p *Params) { delete(p.EventDeltas, VoteCast) }, `event delta for "vote_cast" is missing`},
		{"event deltas nil", func(p *Params) { p.EventDeltas = nil }, `event delta for "block_proposed" is missing`},
		{"event delta above 1", func(p *Params) { p.EventDeltas[Heartbeat] = 1.5 }, `event delta for "heartbeat" must be`},
		{"event delta below -1", func(p *Params) { p.EventDeltas[LateResponse] = -1.5 }, `event delta for "late_response" must be`},
		{"event delta NaN", func(p *Params) { p.EventDeltas[MissedBlock] = math.NaN() }, `event delta for "missed_block" must be`},
		{"penalty missing", func(p *Params) { delete(p.Penalties, Censorship) }, `penalty for "censorship" is missing`},
		{"penalties nil", func(p *Params) { p.Penalties = nil }, `penalty for "double_sign" is missing`},
		{"penalty negative", func(p *Params) { p.Penalties[Equivocation] = -0.1 }, `penalty for "equivocation"`},
		{"penalty above 1", func(p *Params) { p.Penalties[InvalidBlock] = 1.1 }, `penalty for "invalid_block"`},
		{"penalty NaN", func(p *Params) { p.Penalties[ProtocolViolation] = math.NaN() }, `penalty for "protocol_violation"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParams()
			tt.mutate(&p)
			err := p.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Validate() = nil, want error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Validate() = %q, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestReliable(t *testing.T) {
	p := DefaultParams() // Threshold 0.7
	tests := []struct {
		name  string
		score float64
		want  bool
	}{
		{"exactly at threshold", 0.7, true},
		{"just below threshold", math.Nextafter(0.7, 0), false},
		{"just above threshold", math.Nextafter(0.7, 1), true},
		{"zero", 0, false},
		{"one", 1, true},
		{"initial", 0.5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Reliable(tt.score); got != tt.want {
				t.Fatalf("Reliable(%.17g) = %v, want %v", tt.score, got, tt.want)
			}
		})
	}
	t.Run("threshold zero makes every score reliable", func(t *testing.T) {
		q := DefaultParams()
		q.Threshold = 0
		if !q.Reliable(0) {
			t.Fatal("Reliable(0) with threshold 0 = false, want true")
		}
	})
}

func TestTypes(t *testing.T) {
	for i, e := range EventTypes {
		if got := e.Index(); got != i {
			t.Errorf("%s.Index() = %d, want %d", e, got, i)
		}
	}
	for i, v := range ViolationTypes {
		if got := v.Index(); got != i {
			t.Errorf("%s.Index() = %d, want %d", v, got, i)
		}
	}
	if got := EventType("nope").Index(); got != -1 {
		t.Errorf("unknown event Index() = %d, want -1", got)
	}
	if got := ViolationType("").Index(); got != -1 {
		t.Errorf("unknown violation Index() = %d, want -1", got)
	}
	live := map[EventType]bool{BlockProposed: true, BlockValidated: true, VoteCast: true, Heartbeat: true, MissedBlock: false, LateResponse: false}
	for e, want := range live {
		if got := e.Live(); got != want {
			t.Errorf("%s.Live() = %v, want %v", e, got, want)
		}
	}
}
