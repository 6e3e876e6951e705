package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
)

// Application error types the agent-invitation activities return. They are
// not retryable, and the API maps them to its error codes.
const (
	ErrTypeInvitationPending = "InvitationPending"
	ErrTypeAlreadyAgent      = "AlreadyAgent"
	ErrTypeInvitationEnded   = "InvitationEnded"
)

// CreateInvitationInput is a new agent invitation.
type CreateInvitationInput struct {
	InvitationID   string
	AccountID      string
	InviterID      string
	Invitee        face.Identity
	Mobile         string
	ShareTokenHash string
	WorkflowID     string
	ExpiresAt      time.Time
}

// CreateInvitation inserts the pending invitation.
func (a *Activities) CreateInvitation(ctx context.Context, in CreateInvitationInput) error {
	err := a.store.CreateInvitation(ctx, models.NewInvitation{
		ID:             in.InvitationID,
		AccountID:      in.AccountID,
		InviterID:      in.InviterID,
		Invitee:        models.Identity(in.Invitee),
		Mobile:         in.Mobile,
		ShareTokenHash: in.ShareTokenHash,
		WorkflowID:     in.WorkflowID,
		ExpiresAt:      in.ExpiresAt,
	})
	switch {
	case errors.Is(err, models.ErrInvitationPending):
		return temporal.NewNonRetryableApplicationError("a pending invitation for this person exists", ErrTypeInvitationPending, nil)
	case errors.Is(err, models.ErrAlreadyAgent):
		return temporal.NewNonRetryableApplicationError("the person is already an agent", ErrTypeAlreadyAgent, nil)
	case errors.Is(err, models.ErrAlreadyMember):
		return temporal.NewNonRetryableApplicationError("the person is already a member", ErrTypeAlreadyMember, nil)
	case err != nil:
		return fmt.Errorf("unable to store agent invitation: %w", err)
	}
	return nil
}

// AcceptInvitationInput accepts an invitation for the verified invitee.
type AcceptInvitationInput struct {
	InvitationID string
	Invitee      face.Identity
}

// AcceptInvitationResult names the new agent.
type AcceptInvitationResult struct {
	AgentPersonID string
}

// AcceptInvitation makes the invitee an agent of the account.
func (a *Activities) AcceptInvitation(ctx context.Context, in AcceptInvitationInput) (AcceptInvitationResult, error) {
	agentID, err := a.store.AcceptInvitation(ctx, in.InvitationID, models.Identity(in.Invitee))
	if errors.Is(err, models.ErrConflict) {
		return AcceptInvitationResult{}, temporal.NewNonRetryableApplicationError("agent invitation already ended", ErrTypeInvitationEnded, nil)
	}
	if err != nil {
		return AcceptInvitationResult{}, fmt.Errorf("unable to accept agent invitation: %w", err)
	}
	return AcceptInvitationResult{AgentPersonID: agentID}, nil
}

// EndInvitationInput ends an invitation as revoked, expired or failed.
type EndInvitationInput struct {
	InvitationID string
	Status       string
	ActorID      string
}

// EndInvitation stores the end of a pending invitation.
func (a *Activities) EndInvitation(ctx context.Context, in EndInvitationInput) error {
	if _, err := a.store.EndInvitation(ctx, in.InvitationID, in.Status, in.ActorID); err != nil {
		return fmt.Errorf("unable to end agent invitation: %w", err)
	}
	return nil
}

// RecordInvitationFailureInput counts the failed verifications of an invitation.
type RecordInvitationFailureInput struct {
	InvitationID string
	Failures     int
}

// RecordInvitationFailure stores the number of failed verifications.
func (a *Activities) RecordInvitationFailure(ctx context.Context, in RecordInvitationFailureInput) error {
	if err := a.store.RecordInvitationFailure(ctx, in.InvitationID, in.Failures); err != nil {
		return fmt.Errorf("unable to record failed verification: %w", err)
	}
	return nil
}
