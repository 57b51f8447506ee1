package stake

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clone deep-copies an account so a test can prove an operation left it untouched.
func clone(a Account) Account {
	c := a
	if a.Unbonding != nil {
		c.Unbonding = append([]Unbonding(nil), a.Unbonding...)
	}
	return c
}

func mustCheck(t *testing.T, a *Account) {
	t.Helper()
	if err := a.Check(); err != nil {
		t.Fatalf("Check: %v (account %+v)", err, *a)
	}
}

func TestDeposit(t *testing.T) {
	tests := []struct {
		name    string
		start   Account
		amount  uint64
		wantErr error
		want    Account
	}{
		{"first deposit", Account{}, 1_000, nil,
			Account{Bonded: 1_000, Deposited: 1_000, ActiveDeposits: 1}},
		{"second deposit adds", Account{Bonded: 1_000, Deposited: 1_000, ActiveDeposits: 1}, 500, nil,
			Account{Bonded: 1_500, Deposited: 1_500, ActiveDeposits: 2}},
		{"deposit up to MaxAmount", Account{Bonded: 10, Deposited: 10, ActiveDeposits: 1}, MaxAmount - 10, nil,
			Account{Bonded: MaxAmount, Deposited: MaxAmount, ActiveDeposits: 2}},
		{"zero rejected", Account{Bonded: 7, Deposited: 7, ActiveDeposits: 1}, 0, ErrZeroAmount,
			Account{Bonded: 7, Deposited: 7, ActiveDeposits: 1}},
		{"amount above MaxAmount rejected", Account{}, MaxAmount + 1, ErrOverflow, Account{}},
		{"max uint64 rejected", Account{}, math.MaxUint64, ErrOverflow, Account{}},
		{"running total overflow rejected", Account{Bonded: 5, Deposited: MaxAmount - 10, Withdrawn: MaxAmount - 15, ActiveDeposits: 3}, 11, ErrOverflow,
			Account{Bonded: 5, Deposited: MaxAmount - 10, Withdrawn: MaxAmount - 15, ActiveDeposits: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := clone(tt.start)
			err := a.Deposit(tt.amount)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Deposit(%d) error = %v, want %v", tt.amount, err, tt.wantErr)
			}
			if !reflect.DeepEqual(a, tt.want) {
				t.Fatalf("account = %+v, want %+v", a, tt.want)
			}
			mustCheck(t, &a)
		})
	}
}

func TestRequestWithdrawal(t *testing.T) {
	rel := t0.Add(time.Hour)
	tests := []struct {
		name    string
		start   Account
		amount  uint64
		wantErr error
		want    Account
	}{
		{"partial keeps active deposits", Account{Bonded: 1_000, Deposited: 1_000, ActiveDeposits: 2}, 400, nil,
			Account{Bonded: 600, Deposited: 1_000, ActiveDeposits: 2, Unbonding: []Unbonding{{400, rel}}}},
		{"all of it resets active deposits", Account{Bonded: 1_000, Deposited: 1_000, ActiveDeposits: 2}, 1_000, nil,
			Account{Bonded: 0, Deposited: 1_000, ActiveDeposits: 0, Unbonding: []Unbonding{{1_000, rel}}}},
		{"appends after existing entries", Account{Bonded: 10, Deposited: 30, ActiveDeposits: 1, Unbonding: []Unbonding{{20, t0}}}, 3, nil,
			Account{Bonded: 7, Deposited: 30, ActiveDeposits: 1, Unbonding: []Unbonding{{20, t0}, {3, rel}}}},
		{"zero rejected", Account{Bonded: 5, Deposited: 5, ActiveDeposits: 1}, 0, ErrZeroAmount,
			Account{Bonded: 5, Deposited: 5, ActiveDeposits: 1}},
		{"one more than bonded rejected", Account{Bonded: 1_000, Deposited: 1_500, ActiveDeposits: 1, Unbonding: []Unbonding{{500, t0}}}, 1_001, ErrInsufficient,
			Account{Bonded: 1_000, Deposited: 1_500, ActiveDeposits: 1, Unbonding: []Unbonding{{500, t0}}}},
		{"nothing bonded rejected", Account{}, 1, ErrInsufficient, Account{}},
		{"unbonding stake does not count as bonded", Account{Bonded: 0, Deposited: 9, Unbonding: []Unbonding{{9, t0}}}, 9, ErrInsufficient,
			Account{Bonded: 0, Deposited: 9, Unbonding: []Unbonding{{9, t0}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := clone(tt.start)
			err := a.RequestWithdrawal(tt.amount, rel)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RequestWithdrawal(%d) error = %v, want %v", tt.amount, err, tt.wantErr)
			}
			if !reflect.DeepEqual(a, tt.want) {
				t.Fatalf("account = %+v, want %+v", a, tt.want)
			}
			mustCheck(t, &a)
		})
	}
}

func TestRelease(t *testing.T) {
	r1, r2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	start := func() Account {
		return Account{Bonded: 100, Deposited: 400, Unbonding: []Unbonding{{200, r2}, {100, r1}}, ActiveDeposits: 1}
	}
	tests := []struct {
		name          string
		now           time.Time
		wantReleased  []uint64
		wantUnbonding []Unbonding
		wantWithdrawn uint64
	}{
		{"before any release time", t0, nil, []Unbonding{{200, r2}, {100, r1}}, 0},
		{"one nanosecond before the first", r1.Add(-time.Nanosecond), nil, []Unbonding{{200, r2}, {100, r1}}, 0},
		{"exactly at the first", r1, []uint64{100}, []Unbonding{{200, r2}}, 100},
		{"one nanosecond before the second", r2.Add(-time.Nanosecond), []uint64{100}, []Unbonding{{200, r2}}, 100},
		{"exactly at the second releases both in request order", r2, []uint64{200, 100}, nil, 300},
		{"long after", r2.Add(24 * time.Hour), []uint64{200, 100}, nil, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := start()
			got := a.Release(tt.now)
			if !reflect.DeepEqual(got, tt.wantReleased) {
				t.Fatalf("Release(%v) = %v, want %v", tt.now, got, tt.wantReleased)
			}
			if !reflect.DeepEqual(a.Unbonding, tt.wantUnbonding) {
				t.Fatalf("unbonding = %+v, want %+v", a.Unbonding, tt.wantUnbonding)
			}
			if a.Withdrawn != tt.wantWithdrawn || a.Bonded != 100 || a.Deposited != 400 {
				t.Fatalf("withdrawn %d bonded %d deposited %d, want %d, 100, 400", a.Withdrawn, a.Bonded, a.Deposited, tt.wantWithdrawn)
			}
			mustCheck(t, &a)
		})
	}
	t.Run("empty account", func(t *testing.T) {
		var a Account
		if got := a.Release(t0); got != nil || a.Unbonding != nil {
			t.Fatalf("Release on empty account = %v, unbonding %v; want nil, nil", got, a.Unbonding)
		}
	})
}

func TestSlash(t *testing.T) {
	tests := []struct {
		name          string
		start         Account
		ppm           uint32
		wantTaken     uint64
		wantBonded    uint64
		wantUnbonding []uint64
		wantActive    uint32
	}{
		{"5% of bonded only", Account{Bonded: 1_000_000, Deposited: 1_000_000, ActiveDeposits: 3},
			50_000, 50_000, 950_000, nil, 3},
		{"5% of bonded and each unbonding entry, floor", Account{Bonded: 1_000_000, Deposited: 1_333_352, ActiveDeposits: 1,
			Unbonding: []Unbonding{{333_333, t0}, {19, t0}}},
			50_000, 50_000 + 16_666 + 0, 950_000, []uint64{316_667, 19}, 1},
		{"floor rounding on bonded", Account{Bonded: 999, Deposited: 999, ActiveDeposits: 1},
			50_000, 49, 950, nil, 1},
		{"less than one unit rounds to zero", Account{Bonded: 19, Deposited: 19, ActiveDeposits: 1},
			50_000, 0, 19, nil, 1},
		{"ppm 0 takes nothing", Account{Bonded: 1_000_000, Deposited: 1_500_000, ActiveDeposits: 1, Unbonding: []Unbonding{{500_000, t0}}},
			0, 0, 1_000_000, []uint64{500_000}, 1},
		{"ppm 1_000_000 takes everything", Account{Bonded: 1_000_000, Deposited: 1_500_000, ActiveDeposits: 4, Unbonding: []Unbonding{{500_000, t0}}},
			1_000_000, 1_500_000, 0, nil, 0},
		{"ppm above PPM is capped", Account{Bonded: 77, Deposited: 77, ActiveDeposits: 1},
			3_000_000, 77, 0, nil, 0},
		{"0.1% of MaxAmount", Account{Bonded: MaxAmount, Deposited: MaxAmount, ActiveDeposits: 1},
			1_000, MaxAmount / 1_000, MaxAmount - MaxAmount/1_000, nil, 1},
		{"nothing held", Account{}, 50_000, 0, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := clone(tt.start)
			got := a.Slash(tt.ppm)
			if got != tt.wantTaken {
				t.Fatalf("Slash(%d) = %d, want %d", tt.ppm, got, tt.wantTaken)
			}
			if a.Bonded != tt.wantBonded {
				t.Fatalf("bonded = %d, want %d", a.Bonded, tt.wantBonded)
			}
			// Entries slashed to nothing may stay or go; only amounts matter.
			var unb []uint64
			for _, u := range a.Unbonding {
				if u.Amount > 0 {
					unb = append(unb, u.Amount)
				}
			}
			if !reflect.DeepEqual(unb, tt.wantUnbonding) {
				t.Fatalf("unbonding = %v, want %v", unb, tt.wantUnbonding)
			}
			if a.Slashed != tt.start.Slashed+tt.wantTaken {
				t.Fatalf("slashed = %d, want %d", a.Slashed, tt.start.Slashed+tt.wantTaken)
			}
			if a.ActiveDeposits != tt.wantActive {
				t.Fatalf("active deposits = %d, want %d", a.ActiveDeposits, tt.wantActive)
			}
			if a.Deposited != tt.start.Deposited || a.Withdrawn != tt.start.Withdrawn {
				t.Fatalf("deposited/withdrawn changed: %d/%d", a.Deposited, a.Withdrawn)
			}
			mustCheck(t, &a)
		})
	}
}

func TestActiveDeposits(t *testing.T) {
	var a Account
	steps := []struct {
		name string
		do   func() error
		want uint32
	}{
		{"deposit", func() error { return a.Deposit(100) }, 1},
		{"deposit", func() error { return a.Deposit(100) }, 2},
		{"partial withdrawal keeps the count", func() error { return a.RequestWithdrawal(150, t0) }, 2},
		{"rejected withdrawal keeps the count", func() error {
			if err := a.RequestWithdrawal(51, t0); !errors.Is(err, ErrInsufficient) {
				return errors.New("want ErrInsufficient")
			}
			return nil
		}, 2},
		{"withdrawing the rest resets", func() error { return a.RequestWithdrawal(50, t0) }, 0},
		{"release does not count", func() error { a.Release(t0); return nil }, 0},
		{"new deposit starts again", func() error { return a.Deposit(10) }, 1},
		{"partial slash keeps the count", func() error { a.Slash(500_000); return nil }, 1},
		{"slash to zero resets", func() error { a.Slash(PPM); return nil }, 0},
		{"rejected deposit keeps the count", func() error {
			if err := a.Deposit(0); !errors.Is(err, ErrZeroAmount) {
				return errors.New("want ErrZeroAmount")
			}
			return nil
		}, 0},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d (%s): %v", i, s.name, err)
		}
		if a.ActiveDeposits != s.want {
			t.Fatalf("step %d (%s): active deposits = %d, want %d", i, s.name, a.ActiveDeposits, s.want)
		}
		mustCheck(t, &a)
	}
}

func TestMulPPM(t *testing.T) {
	ref := func(amount uint64, ppm uint32) uint64 {
		if ppm > PPM {
			ppm = PPM
		}
		q := new(big.Int).Mul(new(big.Int).SetUint64(amount), big.NewInt(int64(ppm)))
		return q.Div(q, big.NewInt(PPM)).Uint64()
	}
	tests := []struct {
		name   string
		amount uint64
		ppm    uint32
		want   uint64
	}{
		{"5% of a million", 1_000_000, 50_000, 50_000},
		{"floor", 999, 1, 0},
		{"floor just below a whole unit", 1_000_001, 999_999, 999_999},
		{"zero ppm", math.MaxUint64, 0, 0},
		{"full", math.MaxUint64, PPM, math.MaxUint64},
		{"above PPM capped", 12345, math.MaxUint32, 12345},
		{"half of max uint64", math.MaxUint64, 500_000, math.MaxUint64 / 2},
		{"max uint64 almost all", math.MaxUint64, 999_999, ref(math.MaxUint64, 999_999)},
		{"MaxAmount 5%", MaxAmount, 50_000, ref(MaxAmount, 50_000)},
		{"zero amount", 0, 123_456, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MulPPM(tt.amount, tt.ppm); got != tt.want {
				t.Fatalf("MulPPM(%d, %d) = %d, want %d", tt.amount, tt.ppm, got, tt.want)
			}
		})
	}
	t.Run("random against big.Int", func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 11))
		for range 10_000 {
			amount := r.Uint64()
			ppm := r.Uint32N(PPM + 1)
			if got, want := MulPPM(amount, ppm), ref(amount, ppm); got != want {
				t.Fatalf("MulPPM(%d, %d) = %d, want %d", amount, ppm, got, want)
			}
		}
	})
	// The exact expected value of a case computed above by ref must itself be
	// right: floor((2^64-1)·999999/10^6) = 2^64-1 - ceil((2^64-1)/10^6).
	if got, want := ref(math.MaxUint64, 999_999), uint64(math.MaxUint64-18_446_744_073_710); got != want {
		t.Fatalf("reference MulPPM(max, 999999) = %d, want %d", got, want)
	}
}

func TestFractionPPM(t *testing.T) {
	tests := []struct {
		name    string
		in      float64
		want    uint32
		wantErr bool
	}{
		{"zero", 0, 0, false},
		{"five percent", 0.05, 50_000, false},
		{"one", 1, PPM, false},
		{"rounds to nearest", 0.0000014, 1, false},
		{"rounds down to nearest", 0.0000004, 0, false},
		{"negative", -0.01, 0, true},
		{"above one", 1.000001, 0, true},
		{"NaN", math.NaN(), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FractionPPM(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("FractionPPM(%v) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("FractionPPM(%v) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		a       Account
		wantErr bool
	}{
		{"empty", Account{}, false},
		{"consistent", Account{Bonded: 60, Deposited: 100, Withdrawn: 25, Slashed: 5, Unbonding: []Unbonding{{6, t0}, {4, t0}}}, false},
		{"bonded one too many", Account{Bonded: 61, Deposited: 100, Withdrawn: 25, Slashed: 5, Unbonding: []Unbonding{{6, t0}, {4, t0}}}, true},
		{"unbonding one too few", Account{Bonded: 60, Deposited: 100, Withdrawn: 25, Slashed: 5, Unbonding: []Unbonding{{6, t0}, {3, t0}}}, true},
		{"withdrawn and slashed exceed deposited", Account{Deposited: 10, Withdrawn: 8, Slashed: 3}, true},
		{"underflow that would wrap to held", Account{Bonded: math.MaxUint64, Deposited: 0, Withdrawn: 1}, true},
		{"deposit without bonded", Account{Deposited: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.a.Check(); (err != nil) != tt.wantErr {
				t.Fatalf("Check() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestUnbondingTotal(t *testing.T) {
	a := Account{Unbonding: []Unbonding{{1, t0}, {20, t0}, {300, t0}}}
	if got := a.UnbondingTotal(); got != 321 {
		t.Fatalf("UnbondingTotal() = %d, want 321", got)
	}
	if got := (&Account{}).UnbondingTotal(); got != 0 {
		t.Fatalf("UnbondingTotal() of empty = %d, want 0", got)
	}
}

// TestRandomOperations drives one account through random operations and
// checks the invariant, and that rejected operations change nothing, after
// every step.
func TestRandomOperations(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		r := rand.New(rand.NewPCG(seed, 99))
		var a Account
		now := t0
		for i := range 5_000 {
			before := clone(a)
			var err error
			switch r.IntN(4) {
			case 0:
				err = a.Deposit(r.Uint64N(1_000_000))
			case 1:
				err = a.RequestWithdrawal(r.Uint64N(a.Bonded+10), now.Add(time.Duration(r.IntN(100))*time.Minute))
			case 2:
				now = now.Add(time.Duration(r.IntN(30)) * time.Minute)
				a.Release(now)
			case 3:
				a.Slash(r.Uint32N(PPM + PPM/10))
			}
			if err != nil && !reflect.DeepEqual(a, before) {
				t.Fatalf("seed %d step %d: rejected operation (%v) changed the account: %+v -> %+v", seed, i, err, before, a)
			}
			if err := a.Check(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, i, err)
			}
		}
	}
}
