package identity

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers map them to stable error codes with errors.Is.
var (
	ErrInvalidDocType  = errors.New("identity: invalid id_type")
	ErrInvalidIDNumber = errors.New("identity: invalid id_number")
	ErrInvalidName     = errors.New("identity: invalid name")
	ErrInvalidUSCC     = errors.New("identity: invalid uscc")
)

// invalid wraps sentinel with a fixed reason. The reason must never contain
// the rejected value or any part of it.
func invalid(sentinel error, reason string) error {
	return fmt.Errorf("%w: %s", sentinel, reason)
}
