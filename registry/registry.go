// Package registry looks up the legal representative (法定代表人) of an
// enterprise, as the market-supervision registry (市场主体登记) records it.
// The service decides an account's trust level from the result.
//
// The package holds the Registry interface and its embedded default, CSV,
// which reads the registry from a file such as the shipped sample.
//
// A production adapter (a registry API of the market-supervision authority,
// or a data-sharing platform that mirrors it) implements Registry and must:
//   - look an enterprise up by its canonical USCC only, never guess the field
//     from the shape of a value;
//   - return ErrNotFound, and only ErrNotFound, when the registry has no
//     enterprise with that code, so that a caller sees 422 and not 503;
//   - return deregistered (注销, 吊销) enterprises with StatusDeregistered
//     rather than ErrNotFound, so that a caller can tell the person why;
//   - normalise what it returns as CSV does: the name with
//     identity.NormalizeName, the document type as an identity.DocType and
//     the number with identity.NormalizeIDNumber;
//   - honour ctx, time out by itself within a few seconds and return an
//     error other than ErrNotFound when the registry cannot be reached;
//   - keep personal data (the representative's name and ID number) out of
//     its logs and error messages, and cache results only in memory if at all.
package registry

import (
	"context"
	"errors"

	"github.com/gdyst/accountflows/identity"
)

// ErrNotFound is returned by Lookup when no enterprise has the code.
var ErrNotFound = errors.New("registry: enterprise not found")

// Status is the registration status of an enterprise.
type Status string

// The statuses an enterprise can have.
const (
	StatusActive       Status = "active"       // 存续, 在业
	StatusDeregistered Status = "deregistered" // 注销, 吊销
)

// Enterprise is a registry entry. LegalRep is personal data: keep it out of
// logs and errors.
type Enterprise struct {
	USCC     string
	Name     string
	LegalRep LegalRepresentative
	Status   Status
}

// Active reports whether the enterprise may register an account.
func (e Enterprise) Active() bool { return e.Status == StatusActive }

// LegalRepresentative is the person the registry names as the enterprise's
// legal representative, in canonical form.
type LegalRepresentative struct {
	Name     string
	IDType   identity.DocType
	IDNumber string
}

// Registry looks enterprises up by unified social credit code.
type Registry interface {
	// Lookup returns the enterprise registered under uscc, which must be in
	// the canonical form identity.NormalizeUSCC returns. It returns
	// ErrNotFound when there is none and another error when the registry
	// could not be asked.
	Lookup(ctx context.Context, uscc string) (Enterprise, error)
}
