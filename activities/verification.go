package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

// BeginVerificationInput starts one face verification inside a flow that
// waits on a person other than the one logging in: an invitee or a legal
// representative.
type BeginVerificationInput struct {
	VerificationID string
	Purpose        string
	WorkflowID     string
	Expected       face.Identity
	ExpiresAt      time.Time
	CallbackURL    string
}

// BeginVerification registers the verification at the provider and inserts
// its pending row. Reports and callbacks for it are routed to WorkflowID.
func (a *Activities) BeginVerification(ctx context.Context, in BeginVerificationInput) (Verification, error) {
	session, err := a.createSession(ctx, in.VerificationID, in.Expected, in.ExpiresAt, in.CallbackURL)
	if err != nil {
		return Verification{}, err
	}
	err = a.store.CreateVerification(ctx, models.NewVerification{
		ID:                in.VerificationID,
		Purpose:           in.Purpose,
		WorkflowID:        in.WorkflowID,
		Provider:          a.provider.Name(),
		ProviderTokenHash: secure.HashToken(session.ProviderToken),
		ExpiresAt:         in.ExpiresAt,
	})
	if err != nil {
		return Verification{}, fmt.Errorf("unable to store face verification: %w", err)
	}
	return verificationOf(in.VerificationID, session), nil
}

// ExpireVerification marks a verification that is still pending as expired,
// when its flow stops waiting for it.
func (a *Activities) ExpireVerification(ctx context.Context, verificationID string) error {
	if err := a.store.ExpireVerification(ctx, verificationID); err != nil {
		return fmt.Errorf("unable to expire face verification: %w", err)
	}
	return nil
}
