package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/stake"
)

// Body size limits.
const (
	MaxBodyBytes      = 64 << 10
	MaxBatchBodyBytes = 4 << 20
)

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the problem: a stable code, a message for people and the
// input field at fault, if any.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// apiError is an error with its HTTP status.
type apiError struct {
	status int
	ErrorDetail
}

func (e *apiError) Error() string { return e.Message }

func badRequest(code, field, format string, a ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, ErrorDetail: ErrorDetail{Code: code, Field: field, Message: fmt.Sprintf(format, a...)}}
}

var kindStatus = map[ledger.Kind]int{
	ledger.KindInvalid:       http.StatusBadRequest,
	ledger.KindNotFound:      http.StatusNotFound,
	ledger.KindConflict:      http.StatusConflict,
	ledger.KindUnprocessable: http.StatusUnprocessableEntity,
	ledger.KindUnavailable:   http.StatusServiceUnavailable,
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes err as an ErrorBody. Errors that are not the client's
// fault are logged here, once.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeJSON(w, ae.status, ErrorBody{ae.ErrorDetail})
		return
	}
	if le, ok := ledger.AsError(err); ok {
		status := kindStatus[le.Kind]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if status >= 500 {
			log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeJSON(w, status, ErrorBody{ErrorDetail{Code: le.Code, Message: le.Message, Field: le.Field}})
		return
	}
	if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
		writeJSON(w, http.StatusServiceUnavailable, ErrorBody{ErrorDetail{Code: "canceled", Message: "the request was canceled"}})
		return
	}
	log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, ErrorBody{ErrorDetail{Code: "internal", Message: "internal error"}})
}

// readBody reads the request body up to limit bytes. An empty body is
// allowed only when optional is true.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, optional bool) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, &apiError{status: http.StatusUnsupportedMediaType,
				ErrorDetail: ErrorDetail{Code: "unsupported_media_type", Message: "the body must be application/json"}}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge,
				ErrorDetail: ErrorDetail{Code: "body_too_large", Message: fmt.Sprintf("the body exceeds %d bytes", limit)}}
		}
		return nil, badRequest("unreadable_body", "", "the body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 && !optional {
		return nil, badRequest("empty_body", "", "a JSON body is required")
	}
	return body, nil
}

// decodeStrict decodes one JSON value from body into v: unknown fields,
// wrong types and trailing data are errors naming the field.
func decodeStrict(body []byte, v any) error {
	if err := checkKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("invalid_json", "", "the body must hold exactly one JSON object")
	}
	return nil
}

// checkKeys rejects what encoding/json would silently accept: a key given
// twice in one object (the last one would win) and a key that differs from
// the API's lower-case names only by case ("Amount" would fill "amount").
// It names the field with its path, e.g. events[3].type.
func checkKeys(body []byte) error {
	const maxDepth = 32 // the API's bodies nest 3 deep
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers are checked by the real decode, with their field
	var walk func(path string, depth int) error
	walk = func(path string, depth int) error {
		if depth > maxDepth {
			return badRequest("invalid_json", "", "the body nests deeper than %d levels", maxDepth)
		}
		tok, err := dec.Token()
		if err != nil {
			return decodeError(err)
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return decodeError(err)
				}
				key, ok := kt.(string)
				if !ok {
					return badRequest("invalid_json", path, "the body is not valid JSON")
				}
				field := key
				if path != "" {
					field = path + "." + key
				}
				if !lowerName(key) {
					return badRequest("unknown_field", field, "unknown field %q (field names are lower case)", field)
				}
				if seen[key] {
					return badRequest("duplicate_field", field, "field %q is given twice", field)
				}
				seen[key] = true
				if err := walk(field, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return decodeError(err)
			}
			return nil
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return decodeError(err)
			}
			return nil
		}
		return nil
	}
	return walk("", 0)
}

func lowerName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func decodeError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		ae  *apiError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("invalid_json", "", "the body is not valid JSON")
	case errors.As(err, &typ):
		return badRequest("invalid_type", typ.Field, "%s must be a JSON %s", fieldName(typ.Field), jsonKind(typ.Type.Kind().String()))
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); len(msg) > len(unknown) && msg[:len(unknown)] == unknown {
		f, _ := strconv.Unquote(msg[len(unknown):])
		return badRequest("unknown_field", f, "unknown field %q", f)
	}
	return badRequest("invalid_json", "", "the body could not be decoded: %v", err)
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return "integer"
}

// parseAmount reads a token amount in base units: a bare JSON integer in
// [1, 2^63−1]. Strings, fractions, exponents, NaN and negatives are rejected.
// A missing amount is rejected unless optional, when it reads as 0.
func parseAmount(field string, raw json.RawMessage, optional bool) (uint64, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		if optional {
			return 0, nil
		}
		return 0, badRequest("missing_field", field, "%s is required", field)
	}
	bad := badRequest("invalid_amount", field, "%s must be a JSON integer in [1, %d] base units", field, stake.MaxAmount)
	if len(s) > 19 {
		return 0, bad
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 || v > stake.MaxAmount {
		return 0, bad
	}
	return v, nil
}
