package ledger

import (
	"errors"
	"fmt"
)

// Kind classifies an Error for the API layer.
type Kind int

// The error kinds.
const (
	// KindInvalid is input that breaks a rule of its own (bad id, bad amount).
	KindInvalid Kind = iota + 1
	// KindNotFound is a node that is not registered.
	KindNotFound
	// KindConflict is input that clashes with the current state (node exists,
	// node limit reached, idempotency key reused, node still holds stake).
	KindConflict
	// KindUnprocessable is well-formed input that the book cannot apply
	// (withdrawal beyond bonded stake, totals that would overflow).
	KindUnprocessable
	// KindUnavailable is the book failing to persist or shutting down.
	KindUnavailable
)

// Error is a rejected operation. Nothing of a rejected operation is applied.
type Error struct {
	Kind    Kind
	Code    string // stable machine-readable code, e.g. "insufficient_stake"
	Field   string // the input field at fault, if any
	Message string
	Err     error // the underlying cause, if any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func invalid(code, field, format string, a ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Message: fmt.Sprintf(format, a...)}
}

func notFound(id string) *Error {
	return &Error{Kind: KindNotFound, Code: "node_not_found", Field: "node_id", Message: fmt.Sprintf("node %q is not registered", id)}
}

func conflict(code, field, format string, a ...any) *Error {
	return &Error{Kind: KindConflict, Code: code, Field: field, Message: fmt.Sprintf(format, a...)}
}

func unprocessable(code, field string, err error) *Error {
	return &Error{Kind: KindUnprocessable, Code: code, Field: field, Message: err.Error(), Err: err}
}

// ErrClosed is returned for operations submitted after Close.
var ErrClosed = &Error{Kind: KindUnavailable, Code: "shutting_down", Message: "the service is shutting down"}
