package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/gdyst/accountflows/models"
)

// Application error types the account-link activities return. They are
// not retryable, and the API maps them to its error codes.
const (
	ErrTypeAccountNotCertified = "AccountNotCertified"
	ErrTypeAlreadyMember       = "AlreadyMember"
	ErrTypeLinkRequestOpen     = "LinkRequestOpen"
	// ErrTypeLinkRequestEnded carries the status the request ended with as
	// its only detail.
	ErrTypeLinkRequestEnded = "LinkRequestEnded"
)

// kindAccountLink is the flow kind of account link requests, the value of
// workflows.KindAccountLink, which this package cannot import.
const kindAccountLink = "account-link"

// CreateLinkRequestInput is a new account link request.
type CreateLinkRequestInput struct {
	RequestID   string
	AccountID   string
	RequesterID string
	WorkflowID  string
	ExpiresAt   time.Time
}

// CreateLinkRequest inserts the pending link request. A retry with the
// same RequestID changes nothing.
func (a *Activities) CreateLinkRequest(ctx context.Context, in CreateLinkRequestInput) error {
	err := a.store.CreateLinkRequest(ctx, models.NewLinkRequest{
		ID:          in.RequestID,
		AccountID:   in.AccountID,
		RequesterID: in.RequesterID,
		WorkflowID:  in.WorkflowID,
		ExpiresAt:   in.ExpiresAt,
	})
	switch {
	case errors.Is(err, models.ErrAccountNotCertified):
		return temporal.NewNonRetryableApplicationError("the enterprise account is not certified", ErrTypeAccountNotCertified, nil)
	case errors.Is(err, models.ErrAlreadyMember):
		return temporal.NewNonRetryableApplicationError("the requester is already a member of the account", ErrTypeAlreadyMember, nil)
	case errors.Is(err, models.ErrLinkRequestOpen):
		return temporal.NewNonRetryableApplicationError("an open link request for this account exists", ErrTypeLinkRequestOpen, nil)
	case err != nil:
		return fmt.Errorf("unable to store account link request: %w", err)
	}
	return nil
}

// EndLinkRequestInput ends a link request. Status is approved, rejected,
// cancelled or expired; ActorID is the person who decided, empty for an
// expiry.
type EndLinkRequestInput struct {
	RequestID string
	Status    string
	ActorID   string
}

// EndLinkRequest stores the end of a pending link request; approval makes
// the requester an agent of the account. A request that already ended
// with the same status is left as it is, so a retry changes nothing. One
// that ended otherwise fails with ErrTypeLinkRequestEnded, whose detail is
// the status it ended with.
func (a *Activities) EndLinkRequest(ctx context.Context, in EndLinkRequestInput) error {
	r, err := a.store.EndLinkRequest(ctx, in.RequestID, in.Status, in.ActorID)
	if errors.Is(err, models.ErrConflict) {
		return temporal.NewNonRetryableApplicationError("account link request already ended", ErrTypeLinkRequestEnded, nil, r.Status)
	}
	if err != nil {
		return fmt.Errorf("unable to end account link request: %w", err)
	}
	a.flowEnded(kindAccountLink, in.Status)
	return nil
}

// expireLinkRequests marks overdue link requests expired through the same
// Store.EndLinkRequest the workflow calls, and keeps those it changed.
func (s *Sweeper) expireLinkRequests(ctx context.Context, cutoff time.Time, limit int) ([]models.OverdueFlow, error) {
	overdue, err := s.store.OverdueLinkRequests(ctx, cutoff, limit)
	if err != nil {
		return nil, err
	}
	expired := make([]models.OverdueFlow, 0, len(overdue))
	for _, flow := range overdue {
		_, err := s.store.EndLinkRequest(ctx, flow.ID, models.LinkExpired, "")
		if errors.Is(err, models.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("unable to expire account link request %s: %w", flow.ID, err)
		}
		expired = append(expired, flow)
	}
	return expired, nil
}
