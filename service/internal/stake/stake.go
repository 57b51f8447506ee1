// Package stake holds the stake arithmetic of one node: deposits bond stake, a
// withdrawal request moves stake to unbonding until its release time, and a
// slash takes a fraction of both bonded and unbonding stake. Amounts are
// integers in base units. The invariant
//
//	Deposited − Withdrawn − Slashed = Bonded + Σ Unbonding
//
// holds after every operation; operations either succeed completely or leave
// the account untouched.
package stake

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"
)

// MaxAmount is the largest amount, and the largest running total, the book
// accepts. It is the largest int64, so every total fits a signed 64-bit JSON
// client.
const MaxAmount uint64 = math.MaxInt64

// PPM is the denominator of fractions: a fraction is an integer number of
// parts per million, so slashing is exact integer arithmetic.
const PPM = 1_000_000

// Errors returned by account operations.
var (
	ErrZeroAmount   = errors.New("amount must be positive")
	ErrOverflow     = errors.New("amount would overflow the account's totals")
	ErrInsufficient = errors.New("amount exceeds bonded stake")
)

// Unbonding is stake waiting for its release time.
type Unbonding struct {
	Amount    uint64    `json:"amount"`
	ReleaseAt time.Time `json:"release_at"`
}

// Account is the stake book of one node.
type Account struct {
	Bonded    uint64      `json:"bonded"`
	Unbonding []Unbonding `json:"unbonding,omitempty"`
	Deposited uint64      `json:"deposited"`
	Withdrawn uint64      `json:"withdrawn"`
	Slashed   uint64      `json:"slashed"`
	// ActiveDeposits counts deposits made since bonded stake was last zero.
	ActiveDeposits uint32 `json:"active_deposits"`
}

// UnbondingTotal is the sum of all unbonding amounts.
func (a *Account) UnbondingTotal() uint64 {
	var t uint64
	for _, u := range a.Unbonding {
		t += u.Amount
	}
	return t
}

// Deposit bonds amount.
func (a *Account) Deposit(amount uint64) error {
	if amount == 0 {
		return ErrZeroAmount
	}
	if amount > MaxAmount || a.Deposited > MaxAmount-amount {
		return ErrOverflow
	}
	a.Deposited += amount
	a.Bonded += amount
	a.ActiveDeposits++
	return nil
}

// RequestWithdrawal moves amount from bonded to unbonding until releaseAt.
func (a *Account) RequestWithdrawal(amount uint64, releaseAt time.Time) error {
	if amount == 0 {
		return ErrZeroAmount
	}
	if amount > a.Bonded {
		return fmt.Errorf("%w: requested %d, bonded %d", ErrInsufficient, amount, a.Bonded)
	}
	a.Bonded -= amount
	if a.Bonded == 0 {
		a.ActiveDeposits = 0
	}
	a.Unbonding = append(a.Unbonding, Unbonding{Amount: amount, ReleaseAt: releaseAt})
	return nil
}

// Release completes every unbonding entry whose release time is at or before
// now. It returns the amounts released, in request order.
func (a *Account) Release(now time.Time) []uint64 {
	var released []uint64
	kept := a.Unbonding[:0]
	for _, u := range a.Unbonding {
		if !u.ReleaseAt.After(now) {
			released = append(released, u.Amount)
			a.Withdrawn += u.Amount
			continue
		}
		kept = append(kept, u)
	}
	if len(kept) == 0 {
		kept = nil
	}
	a.Unbonding = kept
	return released
}

// Slash takes the fraction ppm/PPM (rounded down) of bonded stake and of each
// unbonding entry. It returns the total taken.
func (a *Account) Slash(ppm uint32) uint64 {
	taken := MulPPM(a.Bonded, ppm)
	a.Bonded -= taken
	if a.Bonded == 0 {
		a.ActiveDeposits = 0
	}
	kept := a.Unbonding[:0]
	for _, u := range a.Unbonding {
		t := MulPPM(u.Amount, ppm)
		u.Amount -= t
		taken += t
		if u.Amount > 0 { // a fully slashed entry has nothing left to release
			kept = append(kept, u)
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	a.Unbonding = kept
	a.Slashed += taken
	return taken
}

// Check verifies the account invariant.
func (a *Account) Check() error {
	held := a.Bonded + a.UnbondingTotal()
	if a.Withdrawn+a.Slashed > a.Deposited || a.Deposited-a.Withdrawn-a.Slashed != held {
		return fmt.Errorf("stake invariant broken: deposited %d - withdrawn %d - slashed %d != bonded %d + unbonding %d",
			a.Deposited, a.Withdrawn, a.Slashed, a.Bonded, a.UnbondingTotal())
	}
	return nil
}

// MulPPM returns floor(amount × ppm / PPM) without overflow. ppm is capped at
// PPM, so the result never exceeds amount.
func MulPPM(amount uint64, ppm uint32) uint64 {
	if ppm >= PPM {
		return amount
	}
	hi, lo := bits.Mul64(amount, uint64(ppm))
	q, _ := bits.Div64(hi, lo, PPM)
	return q
}

// FractionPPM converts a fraction in [0, 1] to parts per million, rounding to
// the nearest part.
func FractionPPM(f float64) (uint32, error) {
	if math.IsNaN(f) || f < 0 || f > 1 {
		return 0, fmt.Errorf("fraction must be in [0, 1], got %v", f)
	}
	return uint32(math.Round(f * PPM)), nil
}
