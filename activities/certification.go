package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
)

// kindCertificationRequest is the flow kind of certification requests, the
// value of workflows.KindCertificationRequest, which this package cannot import.
const kindCertificationRequest = "certification-request"

// Application error types the certification-request activities return.
// None is retryable, and the API maps each to its error code.
const (
	ErrTypeCertificationRequestOpen  = "CertificationRequestOpen"
	ErrTypeAlreadyCertified          = "AlreadyCertified"
	ErrTypeCertificationRequestEnded = "CertificationRequestEnded"
	ErrTypeEnterpriseNotFound        = "EnterpriseNotFound"
	ErrTypeEnterpriseInactive        = "EnterpriseInactive"
	// ErrTypeLegalRepNotVerifiable: the registry names the legal
	// representative by a document that face verification cannot check.
	ErrTypeLegalRepNotVerifiable = "LegalRepresentativeNotVerifiable"
)

// CreateCertificationRequestInput is a new certification request.
type CreateCertificationRequestInput struct {
	RequestID          string
	AccountID          string
	RequesterID        string
	ShareTokenHash     string
	LegalRepNameMasked string
	WorkflowID         string
	ExpiresAt          time.Time
}

// CreateCertificationRequest inserts the request in pending_consent.
func (a *Activities) CreateCertificationRequest(ctx context.Context, in CreateCertificationRequestInput) error {
	err := a.store.CreateCertificationRequest(ctx, models.NewCertificationRequest{
		ID:                 in.RequestID,
		AccountID:          in.AccountID,
		RequesterID:        in.RequesterID,
		ShareTokenHash:     in.ShareTokenHash,
		WorkflowID:         in.WorkflowID,
		LegalRepNameMasked: in.LegalRepNameMasked,
		ExpiresAt:          in.ExpiresAt,
	})
	switch {
	case errors.Is(err, models.ErrCertificationRequestOpen):
		return temporal.NewNonRetryableApplicationError("the account has an open certification request", ErrTypeCertificationRequestOpen, nil)
	case errors.Is(err, models.ErrAlreadyCertified):
		return temporal.NewNonRetryableApplicationError("the account is already certified", ErrTypeAlreadyCertified, nil)
	case err != nil:
		return fmt.Errorf("unable to store certification request: %w", err)
	}
	return nil
}

// LookupLegalRepresentative reads the enterprise's current legal
// representative from the registry, as the identity a face verification
// must match. It fails without retrying when the registry no longer has an
// active enterprise under uscc, or names the representative by a document
// face verification cannot check. The result is personal data: only the
// encrypted payload carries it.
func (a *Activities) LookupLegalRepresentative(ctx context.Context, uscc string) (face.Identity, error) {
	if a.Registry == nil {
		return face.Identity{}, temporal.NewNonRetryableApplicationError("activities: no registry configured", "NoRegistry", nil)
	}
	enterprise, err := a.Registry.Lookup(ctx, uscc)
	if errors.Is(err, registry.ErrNotFound) {
		return face.Identity{}, temporal.NewNonRetryableApplicationError("the registry has no enterprise under the USCC", ErrTypeEnterpriseNotFound, nil)
	}
	if err != nil {
		return face.Identity{}, fmt.Errorf("unable to look up the enterprise registry: %w", err)
	}
	if !enterprise.Active() {
		return face.Identity{}, temporal.NewNonRetryableApplicationError("the enterprise is deregistered", ErrTypeEnterpriseInactive, nil)
	}
	rep := enterprise.LegalRep
	if !identity.DocType(rep.IDType).FaceVerifiable() {
		return face.Identity{}, temporal.NewNonRetryableApplicationError("the legal representative's document cannot be face-verified", ErrTypeLegalRepNotVerifiable, nil)
	}
	return face.Identity{IDType: string(rep.IDType), IDNumber: rep.IDNumber, Name: rep.Name}, nil
}

// AgreeCertificationRequest records the legal representative's consent.
func (a *Activities) AgreeCertificationRequest(ctx context.Context, requestID string) error {
	err := a.store.AgreeCertificationRequest(ctx, requestID)
	if errors.Is(err, models.ErrConflict) {
		return temporal.NewNonRetryableApplicationError("certification request already ended", ErrTypeCertificationRequestEnded, nil)
	}
	if err != nil {
		return fmt.Errorf("unable to record consent to certification request: %w", err)
	}
	return nil
}

// RecordCertificationFailureInput counts the failed verifications of a request.
type RecordCertificationFailureInput struct {
	RequestID string
	Failures  int
}

// RecordCertificationFailure stores the number of failed verifications.
func (a *Activities) RecordCertificationFailure(ctx context.Context, in RecordCertificationFailureInput) error {
	if err := a.store.RecordCertificationFailure(ctx, in.RequestID, in.Failures); err != nil {
		return fmt.Errorf("unable to record failed verification: %w", err)
	}
	return nil
}

// CertifyAccountInput certifies the account of a request for the legal
// representative whose face verification passed.
type CertifyAccountInput struct {
	RequestID string
	LegalRep  face.Identity
}

// CertifyAccountResult names the legal representative's person.
type CertifyAccountResult struct {
	LegalRepPersonID string
}

// CertifyAccount certifies the account, makes the legal representative a
// member and the requester an agent authorised by them, in one transaction.
// A retry returns the same result and changes nothing.
func (a *Activities) CertifyAccount(ctx context.Context, in CertifyAccountInput) (CertifyAccountResult, error) {
	rep := models.Identity{IDType: in.LegalRep.IDType, IDNumber: in.LegalRep.IDNumber, Name: in.LegalRep.Name}
	repID, err := a.store.CertifyAccount(ctx, in.RequestID, rep)
	if errors.Is(err, models.ErrConflict) {
		// The sweep expired the request in the database first; it stays expired.
		return CertifyAccountResult{}, temporal.NewNonRetryableApplicationError("certification request already ended", ErrTypeCertificationRequestEnded, nil)
	}
	if err != nil {
		return CertifyAccountResult{}, fmt.Errorf("unable to certify enterprise account: %w", err)
	}
	a.flowEnded(kindCertificationRequest, models.CertificationCertified)
	return CertifyAccountResult{LegalRepPersonID: repID}, nil
}

// EndCertificationRequestInput ends a request as refused, cancelled,
// expired or failed. ActorID is the requester who cancelled, empty otherwise.
type EndCertificationRequestInput struct {
	RequestID string
	Status    string
	ActorID   string
}

// EndCertificationRequest stores the end of an open request. A request that
// already ended keeps its outcome.
func (a *Activities) EndCertificationRequest(ctx context.Context, in EndCertificationRequestInput) error {
	ended, err := a.store.EndCertificationRequest(ctx, in.RequestID, in.Status, in.ActorID)
	if err != nil {
		return fmt.Errorf("unable to end certification request: %w", err)
	}
	if ended {
		a.flowEnded(kindCertificationRequest, in.Status)
	}
	return nil
}

// expireCertificationRequests marks overdue certification requests expired
// through the same Store.EndCertificationRequest the workflow calls, and
// keeps those it changed.
func (s *Sweeper) expireCertificationRequests(ctx context.Context, cutoff time.Time, limit int) ([]models.OverdueFlow, error) {
	overdue, err := s.store.OverdueCertificationRequests(ctx, cutoff, limit)
	if err != nil {
		return nil, err
	}
	expired := make([]models.OverdueFlow, 0, len(overdue))
	for _, flow := range overdue {
		ended, err := s.store.EndCertificationRequest(ctx, flow.ID, models.CertificationExpired, "")
		if err != nil {
			return nil, fmt.Errorf("unable to expire certification request %s: %w", flow.ID, err)
		}
		if ended {
			expired = append(expired, flow)
		}
	}
	return expired, nil
}
