package workflows

import (
	"time"

	"github.com/gdyst/accountflows/face"
)

// Agent invitation contract.
const (
	AgentInvitationWorkflow = "AgentInvitation"
	KindAgentInvitation     = "agent-invitation"

	// UpdateBeginInvitation returns once the invitation's row exists, or
	// fails with activities.ErrTypeInvitationPending or ErrTypeAlreadyAgent.
	UpdateBeginInvitation = "begin-invitation"
	// UpdateStartInviteeVerification begins a face verification of the
	// invitee and returns it. Its validator rejects an invitation that is
	// no longer pending.
	UpdateStartInviteeVerification = "start-invitee-verification"
	// UpdateRevokeInvitation revokes a pending invitation. Its validator
	// rejects one that is no longer pending.
	UpdateRevokeInvitation = "revoke-invitation"

	// MaxInviteeVerificationFailures ends an invitation as failed.
	MaxInviteeVerificationFailures = 3
)

// AgentInvitationID is the workflow ID of the invitation with the given id.
func AgentInvitationID(id string) string { return KindAgentInvitation + "/" + id }

// AgentInvitationSummary is the zh-CN StaticSummary of an invitation.
func AgentInvitationSummary(enterpriseName string) string {
	return "经办人授权邀请 · " + enterpriseName
}

// AgentInvitationInput starts an agent invitation.
type AgentInvitationInput struct {
	InvitationID    string
	AccountID       string
	InviterID       string
	Invitee         face.Identity
	Mobile          string
	ShareTokenHash  string
	ExpiresAt       time.Time
	VerificationTTL time.Duration
	CallbackURL     string
}

// StartVerificationRequest is the argument of UpdateStartInviteeVerification.
type StartVerificationRequest struct {
	VerificationID string
}

// RevokeRequest is the argument of UpdateRevokeInvitation.
type RevokeRequest struct {
	ActorID string
}

// AgentInvitationResult is the result of a finished invitation.
type AgentInvitationResult struct {
	Status        string
	AgentPersonID string
}

// ErrTypeNotPending is the application error type of an update that a flow
// rejects because it is no longer waiting for it.
const ErrTypeNotPending = "NotPending"
