package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/gdyst/accountflows/identity"
)

// Agent invitation statuses.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationRevoked  = "revoked"
	InvitationExpired  = "expired"
	InvitationFailed   = "failed"
)

// Audit actions of agent invitations and agents.
const (
	AuditInvitationCreated  = "agent_invitation_created"
	AuditInvitationAccepted = "agent_invitation_accepted"
	AuditInvitationRevoked  = "agent_invitation_revoked"
	AuditInvitationExpired  = "agent_invitation_expired"
	AuditInvitationFailed   = "agent_invitation_failed"
	AuditAgentAuthorized    = "agent_authorized"
	AuditAgentRemoved       = "agent_removed"
)

// Errors of agent invitations.
var (
	ErrInvitationPending = errors.New("models: a pending invitation for this person exists")
	ErrAlreadyAgent      = errors.New("models: the person is already an agent of the account")
)

// AgentInvitation is the legal representative's invitation of one person to
// become an agent. The invitee appears only as a keyed hash and masked forms.
type AgentInvitation struct {
	ID                    string `gorm:"primaryKey"`
	EnterpriseAccountID   string
	InviterPersonID       string
	InviteeIDType         string
	InviteeIDHash         string
	InviteeNameMasked     string
	InviteeIDNumberMasked string
	MobileEnc             []byte
	ShareTokenHash        string
	WorkflowID            string
	Status                string
	FailedVerifications   int
	AgentPersonID         *string
	ExpiresAt             time.Time
	EndedAt               *time.Time
	CreatedAt             time.Time
}

// NewInvitation describes an invitation to create. Mobile is optional.
type NewInvitation struct {
	ID             string
	AccountID      string
	InviterID      string
	Invitee        Identity
	Mobile         string
	ShareTokenHash string
	WorkflowID     string
	ExpiresAt      time.Time
}

// CreateInvitation inserts a pending invitation. It returns ErrAlreadyAgent
// when the invitee is a current agent of the account, ErrAlreadyMember when
// they hold another role there, and
// ErrInvitationPending when another pending invitation for the same person
// exists, which the database's partial unique index decides even for
// concurrent calls. A second call with the same id returns nil.
func (s *Store) CreateInvitation(ctx context.Context, in NewInvitation) error {
	hash := s.LookupHash(in.Invitee.IDType, in.Invitee.IDNumber)
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var existing AgentInvitation
		err := tx.Where("id = ?", in.ID).Take(&existing).Error
		if err == nil {
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		roles, err := s.currentRolesByIDHash(tx, in.AccountID, hash)
		if err != nil {
			return err
		}
		switch {
		case slices.Contains(roles, RoleAgent):
			return ErrAlreadyAgent
		case len(roles) > 0:
			// The legal representative or the applicant inviting themselves.
			return ErrAlreadyMember
		}
		row := AgentInvitation{
			ID:                    in.ID,
			EnterpriseAccountID:   in.AccountID,
			InviterPersonID:       in.InviterID,
			InviteeIDType:         in.Invitee.IDType,
			InviteeIDHash:         hash,
			InviteeNameMasked:     identity.MaskName(in.Invitee.Name),
			InviteeIDNumberMasked: identity.MaskIDNumber(in.Invitee.IDNumber),
			ShareTokenHash:        in.ShareTokenHash,
			WorkflowID:            in.WorkflowID,
			Status:                InvitationPending,
			ExpiresAt:             in.ExpiresAt.UTC(),
			CreatedAt:             s.now(),
		}
		if in.Mobile != "" {
			row.MobileEnc = s.keys.Seal([]byte(in.Mobile), "agent_invitations.mobile")
		}
		if err := insertOrConflict(tx, &row, ErrInvitationPending); err != nil {
			return err
		}
		return s.recordAudit(tx, AuditEntry{
			AccountID: in.AccountID,
			Actor:     in.InviterID,
			Action:    AuditInvitationCreated,
			Detail:    map[string]any{"invitation_id": in.ID},
		})
	})
}

// currentRolesByIDHash returns the current roles in the account of the
// person with the lookup hash, none when they are not a member.
func (s *Store) currentRolesByIDHash(tx *gorm.DB, accountID, idHash string) ([]string, error) {
	var roles []string
	err := tx.Model(&Membership{}).
		Joins("JOIN persons ON persons.id = memberships.person_id").
		Where("memberships.enterprise_account_id = ? AND persons.id_hash = ? AND memberships.revoked_at IS NULL", accountID, idHash).
		Pluck("memberships.role", &roles).Error
	return roles, err
}

// Invitation returns the invitation with id.
func (s *Store) Invitation(ctx context.Context, id string) (AgentInvitation, error) {
	var inv AgentInvitation
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&inv).Error
	return inv, notFound(err)
}

// InvitationByShareToken finds an invitation by the hash of its share token.
func (s *Store) InvitationByShareToken(ctx context.Context, tokenHash string) (AgentInvitation, error) {
	var inv AgentInvitation
	err := s.db.WithContext(ctx).Where("share_token_hash = ?", tokenHash).Take(&inv).Error
	return inv, notFound(err)
}

// InvitationsOfAccount lists an account's invitations, newest first, with
// the given status or all of them when status is empty.
func (s *Store) InvitationsOfAccount(ctx context.Context, accountID, status string) ([]AgentInvitation, error) {
	q := s.db.WithContext(ctx).Where("enterprise_account_id = ?", accountID)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var out []AgentInvitation
	err := q.Order("created_at DESC, id DESC").Limit(200).Find(&out).Error
	return out, err
}

// RecordInvitationFailure stores how many verifications of a pending
// invitation have failed.
func (s *Store) RecordInvitationFailure(ctx context.Context, id string, failures int) error {
	return s.db.WithContext(ctx).Model(&AgentInvitation{}).
		Where("id = ? AND status = ? AND failed_verifications < ?", id, InvitationPending, failures).
		Update("failed_verifications", failures).Error
}

// AcceptInvitation makes the verified invitee an agent of the account,
// authorised by the inviter, and marks the invitation accepted, in one
// transaction. For an invitation already accepted it returns the same agent
// and changes nothing; for one that ended otherwise it returns ErrConflict.
func (s *Store) AcceptInvitation(ctx context.Context, id string, invitee Identity) (string, error) {
	var agentID string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var inv AgentInvitation
		if err := tx.Where("id = ?", id).Take(&inv).Error; err != nil {
			return notFound(err)
		}
		if inv.Status == InvitationAccepted && inv.AgentPersonID != nil {
			agentID = *inv.AgentPersonID
			return nil
		}
		if inv.Status != InvitationPending {
			return fmt.Errorf("agent invitation is %s: %w", inv.Status, ErrConflict)
		}
		person, err := s.ensurePerson(tx, invitee)
		if err != nil {
			return err
		}
		inviter := inv.InviterPersonID
		if err := s.ensureRole(tx, inv.EnterpriseAccountID, person.ID, RoleAgent, ViaInvitation, &inviter); err != nil {
			return err
		}
		now := s.now()
		res := tx.Model(&AgentInvitation{}).Where("id = ? AND status = ?", id, InvitationPending).
			Updates(map[string]any{"status": InvitationAccepted, "agent_person_id": person.ID, "ended_at": now})
		if res.Error != nil {
			return fmt.Errorf("unable to update agent invitation: %w", res.Error)
		}
		for _, action := range []string{AuditInvitationAccepted, AuditAgentAuthorized} {
			err := s.recordAudit(tx, AuditEntry{
				AccountID: inv.EnterpriseAccountID,
				Actor:     person.ID,
				Subject:   person.ID,
				Action:    action,
				Detail:    map[string]any{"invitation_id": id, "via": ViaInvitation, "authorized_by": inviter},
			})
			if err != nil {
				return err
			}
		}
		agentID = person.ID
		return nil
	})
	return agentID, err
}

// EndInvitation ends a pending invitation as revoked, expired or failed,
// with an audit event. actor is the person who revoked it, empty otherwise.
// An invitation that already ended is left as it is and ended is false.
func (s *Store) EndInvitation(ctx context.Context, id, status, actor string) (ended bool, err error) {
	action, ok := map[string]string{
		InvitationRevoked: AuditInvitationRevoked,
		InvitationExpired: AuditInvitationExpired,
		InvitationFailed:  AuditInvitationFailed,
	}[status]
	if !ok {
		return false, fmt.Errorf("models: EndInvitation cannot end an invitation as %q", status)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var inv AgentInvitation
		if err := tx.Where("id = ?", id).Take(&inv).Error; err != nil {
			return notFound(err)
		}
		res := tx.Model(&AgentInvitation{}).Where("id = ? AND status = ?", id, InvitationPending).
			Updates(map[string]any{"status": status, "ended_at": s.now()})
		if res.Error != nil {
			return fmt.Errorf("unable to update agent invitation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		ended = true
		return s.recordAudit(tx, AuditEntry{
			AccountID: inv.EnterpriseAccountID,
			Actor:     actor,
			Action:    action,
			Detail:    map[string]any{"invitation_id": id},
		})
	})
	return ended, err
}

// OverdueInvitations returns up to limit invitations still pending whose
// expires_at is before cutoff, earliest deadline first.
func (s *Store) OverdueInvitations(ctx context.Context, cutoff time.Time, limit int) ([]OverdueFlow, error) {
	var flows []OverdueFlow
	err := s.db.WithContext(ctx).Model(&AgentInvitation{}).
		Select("id, workflow_id, expires_at").
		Where("status = ? AND expires_at < ?", InvitationPending, cutoff.UTC()).
		Order("expires_at").Limit(limit).Scan(&flows).Error
	if err != nil {
		return nil, fmt.Errorf("unable to list overdue agent invitations: %w", err)
	}
	return flows, nil
}

// ensureRole grants role unless the person already holds it, so a retried
// grant changes nothing.
func (s *Store) ensureRole(tx *gorm.DB, accountID, personID, role, via string, authorizedBy *string) error {
	var n int64
	err := tx.Model(&Membership{}).
		Where("enterprise_account_id = ? AND person_id = ? AND role = ? AND revoked_at IS NULL", accountID, personID, role).
		Count(&n).Error
	if err != nil || n > 0 {
		return err
	}
	return s.grantRole(tx, accountID, personID, role, via, authorizedBy)
}

// Agent is a current agent of an account, as the legal representative and
// the applicant see it.
type Agent struct {
	PersonID               string
	NameMasked             string
	IDNumberMasked         string
	AuthorizedBy           *string
	AuthorizedByNameMasked string
	AuthorizedAt           time.Time
	Via                    string
}

// Agents lists the current agents of an account, earliest authorised first.
func (s *Store) Agents(ctx context.Context, accountID string) ([]Agent, error) {
	var rows []struct {
		PersonID       string
		NameMasked     string
		IDNumberMasked string
		AuthorizedBy   *string
		AuthorizerName *string
		AuthorizedAt   time.Time
		Via            string
	}
	err := s.db.WithContext(ctx).Table("memberships AS m").
		Select("m.person_id, p.name_masked, p.id_number_masked, m.authorized_by, a.name_masked AS authorizer_name, m.authorized_at, m.via").
		Joins("JOIN persons AS p ON p.id = m.person_id").
		Joins("LEFT JOIN persons AS a ON a.id = m.authorized_by").
		Where("m.enterprise_account_id = ? AND m.role = ? AND m.revoked_at IS NULL", accountID, RoleAgent).
		Order("m.authorized_at, m.person_id").
		Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Agent, 0, len(rows))
	for _, r := range rows {
		agent := Agent{PersonID: r.PersonID, NameMasked: r.NameMasked, IDNumberMasked: r.IDNumberMasked,
			AuthorizedBy: r.AuthorizedBy, AuthorizedAt: r.AuthorizedAt.UTC(), Via: r.Via}
		if r.AuthorizerName != nil {
			agent.AuthorizedByNameMasked = *r.AuthorizerName
		}
		out = append(out, agent)
	}
	return out, nil
}

// RemoveAgent ends a person's agent role in an account and, at once, their
// enterprise sessions for it unless they still hold another role there. It
// returns ErrNotFound when the person is not a current agent.
func (s *Store) RemoveAgent(ctx context.Context, accountID, personID, actor string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		res := tx.Model(&Membership{}).
			Where("enterprise_account_id = ? AND person_id = ? AND role = ? AND revoked_at IS NULL", accountID, personID, RoleAgent).
			Updates(map[string]any{"revoked_at": now, "revoked_by": actor})
		if res.Error != nil {
			return fmt.Errorf("unable to revoke membership: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		var remaining int64
		err := tx.Model(&Membership{}).
			Where("enterprise_account_id = ? AND person_id = ? AND revoked_at IS NULL", accountID, personID).
			Count(&remaining).Error
		if err != nil {
			return err
		}
		if remaining == 0 {
			err := tx.Model(&Session{}).
				Where("person_id = ? AND enterprise_account_id = ? AND revoked_at IS NULL", personID, accountID).
				Update("revoked_at", now).Error
			if err != nil {
				return fmt.Errorf("unable to end sessions: %w", err)
			}
		}
		return s.recordAudit(tx, AuditEntry{AccountID: accountID, Actor: actor, Subject: personID, Action: AuditAgentRemoved})
	})
}
