package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Account link request statuses (关联他人的企业账号).
const (
	LinkPendingApproval = "pending_approval"
	LinkApproved        = "approved"
	LinkRejected        = "rejected"
	LinkCancelled       = "cancelled"
	LinkExpired         = "expired"
)

// LinkStatuses lists every account link request status.
var LinkStatuses = []string{LinkPendingApproval, LinkApproved, LinkRejected, LinkCancelled, LinkExpired}

// Audit actions of account link requests.
const (
	AuditLinkRequested = "account_link_requested"
	AuditLinkApproved  = "account_link_approved"
	AuditLinkRejected  = "account_link_rejected"
	AuditLinkCancelled = "account_link_cancelled"
	AuditLinkExpired   = "account_link_expired"
)

// MaxLinkRequestsListed bounds LinkRequestsOfAccount: the newest requests
// are listed and older ones left out.
const MaxLinkRequestsListed = 200

// Errors of account link requests.
var (
	ErrAccountNotCertified = errors.New("models: the enterprise account is not certified")
	ErrAlreadyMember       = errors.New("models: the person is already a member of the account")
	ErrLinkRequestOpen     = errors.New("models: an open link request for this person and account exists")
)

// AccountLinkRequest is one person's request to become an agent of a
// certified account, decided by the account's applicant. DecidedBy is the
// person who approved, rejected or cancelled it, and nil while it is
// pending or after it expired.
type AccountLinkRequest struct {
	ID                  string `gorm:"primaryKey"`
	EnterpriseAccountID string
	RequesterPersonID   string
	WorkflowID          string
	Status              string
	DecidedBy           *string
	ExpiresAt           time.Time
	CreatedAt           time.Time
	EndedAt             *time.Time
}

// Pending reports whether the request still awaits a decision.
func (r AccountLinkRequest) Pending() bool { return r.Status == LinkPendingApproval }

// NewLinkRequest describes a link request to create.
type NewLinkRequest struct {
	ID          string
	AccountID   string
	RequesterID string
	WorkflowID  string
	ExpiresAt   time.Time
}

// LinkTarget finds the account a person requests to link to by its 法人账号
// login name and checks that the request may be made. It returns
// ErrNotFound when no account has the login name or its USCC is not uscc,
// so that the caller cannot tell the two apart. It then returns
// ErrAccountNotCertified, ErrAlreadyMember when the person holds any
// current role in the account, or ErrLinkRequestOpen.
//
// CreateLinkRequest checks the same rules again in its transaction; this
// read lets the API answer before it starts a workflow.
func (s *Store) LinkTarget(ctx context.Context, requesterID, loginName, uscc string) (EnterpriseAccount, error) {
	name, err := NormalizeLoginName(loginName)
	if err != nil {
		return EnterpriseAccount{}, ErrNotFound
	}
	db := s.db.WithContext(ctx)
	var account EnterpriseAccount
	if err := db.Where("login_name = ?", name).Take(&account).Error; err != nil {
		return EnterpriseAccount{}, notFound(err)
	}
	if account.USCC != uscc {
		return EnterpriseAccount{}, ErrNotFound
	}
	if err := s.checkLinkable(db, account, requesterID); err != nil {
		return EnterpriseAccount{}, err
	}
	var open int64
	err = db.Model(&AccountLinkRequest{}).
		Where("enterprise_account_id = ? AND requester_person_id = ? AND status = ?", account.ID, requesterID, LinkPendingApproval).
		Count(&open).Error
	if err != nil {
		return EnterpriseAccount{}, err
	}
	if open > 0 {
		return EnterpriseAccount{}, ErrLinkRequestOpen
	}
	return account, nil
}

// checkLinkable returns ErrAccountNotCertified or ErrAlreadyMember when the
// person may not request a link to the account.
func (s *Store) checkLinkable(tx *gorm.DB, account EnterpriseAccount, personID string) error {
	if !account.Certified() {
		return ErrAccountNotCertified
	}
	var roles int64
	err := tx.Model(&Membership{}).
		Where("enterprise_account_id = ? AND person_id = ? AND revoked_at IS NULL", account.ID, personID).
		Count(&roles).Error
	if err != nil {
		return err
	}
	if roles > 0 {
		return ErrAlreadyMember
	}
	return nil
}

// CreateLinkRequest inserts a pending link request with an audit event. It
// returns ErrNotFound for an unknown account, ErrAccountNotCertified,
// ErrAlreadyMember, or ErrLinkRequestOpen when the requester has another
// pending request for the account, which the database's partial unique
// index decides even for concurrent calls. A second call with the same id
// returns nil and changes nothing.
func (s *Store) CreateLinkRequest(ctx context.Context, in NewLinkRequest) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var existing AccountLinkRequest
		err := tx.Where("id = ?", in.ID).Take(&existing).Error
		if err == nil {
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var account EnterpriseAccount
		if err := tx.Where("id = ?", in.AccountID).Take(&account).Error; err != nil {
			return notFound(err)
		}
		if err := s.checkLinkable(tx, account, in.RequesterID); err != nil {
			return err
		}
		row := AccountLinkRequest{
			ID:                  in.ID,
			EnterpriseAccountID: in.AccountID,
			RequesterPersonID:   in.RequesterID,
			WorkflowID:          in.WorkflowID,
			Status:              LinkPendingApproval,
			ExpiresAt:           in.ExpiresAt.UTC(),
			CreatedAt:           s.now(),
		}
		// The id was not found above, so a conflict here is the index that
		// allows one pending request per requester and account.
		if err := insertOrConflict(tx, &row, ErrLinkRequestOpen); err != nil {
			return err
		}
		return s.recordAudit(tx, AuditEntry{
			AccountID: in.AccountID,
			Actor:     in.RequesterID,
			Subject:   in.RequesterID,
			Action:    AuditLinkRequested,
			Detail:    map[string]any{"link_request_id": in.ID},
		})
	})
}

// LinkRequest returns the link request with id.
func (s *Store) LinkRequest(ctx context.Context, id string) (AccountLinkRequest, error) {
	var r AccountLinkRequest
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	return r, notFound(err)
}

var linkEndActions = map[string]string{
	LinkApproved:  AuditLinkApproved,
	LinkRejected:  AuditLinkRejected,
	LinkCancelled: AuditLinkCancelled,
	LinkExpired:   AuditLinkExpired,
}

// EndLinkRequest ends a pending link request as approved, rejected,
// cancelled or expired, with its audit events, in one transaction. actor
// is the person who decided (the approver, or the requester who
// cancelled), and empty for an expiry. Approval makes the requester an
// agent of the account (via link_approval), authorised by actor.
//
// A request that already has status is returned unchanged with a nil
// error, so a retried activity changes nothing twice. A request that ended
// otherwise is returned unchanged with an error wrapping ErrConflict. An
// unknown id is ErrNotFound.
func (s *Store) EndLinkRequest(ctx context.Context, id, status, actor string) (AccountLinkRequest, error) {
	action, ok := linkEndActions[status]
	if !ok {
		return AccountLinkRequest{}, fmt.Errorf("models: EndLinkRequest cannot end a request as %q", status)
	}
	if status != LinkExpired && actor == "" {
		return AccountLinkRequest{}, fmt.Errorf("models: EndLinkRequest needs the person who made the request %s", status)
	}
	var out AccountLinkRequest
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&out).Error; err != nil {
			return notFound(err)
		}
		if out.Status == status {
			return nil
		}
		if !out.Pending() {
			return fmt.Errorf("account link request is %s: %w", out.Status, ErrConflict)
		}
		now := s.now()
		res := tx.Model(&AccountLinkRequest{}).Where("id = ? AND status = ?", id, LinkPendingApproval).
			Updates(map[string]any{"status": status, "decided_by": optional(actor), "ended_at": now})
		if res.Error != nil {
			return fmt.Errorf("unable to update account link request: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			// Another transaction ended it between the read and the update.
			if err := tx.Where("id = ?", id).Take(&out).Error; err != nil {
				return err
			}
			if out.Status == status {
				return nil
			}
			return fmt.Errorf("account link request is %s: %w", out.Status, ErrConflict)
		}
		out.Status, out.DecidedBy, out.EndedAt = status, optional(actor), &now

		err := s.recordAudit(tx, AuditEntry{
			AccountID: out.EnterpriseAccountID,
			Actor:     actor,
			Subject:   out.RequesterPersonID,
			Action:    action,
			Detail:    map[string]any{"link_request_id": id},
		})
		if err != nil || status != LinkApproved {
			return err
		}
		return s.authorizeLinkedAgent(tx, out, actor)
	})
	return out, err
}

// authorizeLinkedAgent makes the requester of an approved link request an
// agent authorised by approver, unless they became an agent otherwise in
// the meantime, in which case nothing changes.
func (s *Store) authorizeLinkedAgent(tx *gorm.DB, r AccountLinkRequest, approver string) error {
	var agent int64
	err := tx.Model(&Membership{}).
		Where("enterprise_account_id = ? AND person_id = ? AND role = ? AND revoked_at IS NULL", r.EnterpriseAccountID, r.RequesterPersonID, RoleAgent).
		Count(&agent).Error
	if err != nil || agent > 0 {
		return err
	}
	if err := s.grantRole(tx, r.EnterpriseAccountID, r.RequesterPersonID, RoleAgent, ViaLinkApproval, &approver); err != nil {
		return err
	}
	return s.recordAudit(tx, AuditEntry{
		AccountID: r.EnterpriseAccountID,
		Actor:     approver,
		Subject:   r.RequesterPersonID,
		Action:    AuditAgentAuthorized,
		Detail:    map[string]any{"link_request_id": r.ID, "via": ViaLinkApproval, "authorized_by": approver},
	})
}

// LinkRequestItem is a link request as the applicant lists it, with the
// requester's masked name and ID number.
type LinkRequestItem struct {
	AccountLinkRequest
	RequesterNameMasked     string
	RequesterIDNumberMasked string
}

// LinkRequestsOfAccount lists the account's link requests, newest first,
// at most MaxLinkRequestsListed of them. A non-empty status keeps only
// requests with that status.
func (s *Store) LinkRequestsOfAccount(ctx context.Context, accountID, status string) ([]LinkRequestItem, error) {
	q := s.db.WithContext(ctx).Table("account_link_requests AS r").
		Select("r.*, p.name_masked AS requester_name_masked, p.id_number_masked AS requester_id_number_masked").
		Joins("JOIN persons AS p ON p.id = r.requester_person_id").
		Where("r.enterprise_account_id = ?", accountID)
	if status != "" {
		q = q.Where("r.status = ?", status)
	}
	out := []LinkRequestItem{}
	err := q.Order("r.created_at DESC, r.id DESC").Limit(MaxLinkRequestsListed).Scan(&out).Error
	return out, err
}

// CountPendingLinkRequests counts the account's link requests that await
// a decision and have not passed their expiry.
func (s *Store) CountPendingLinkRequests(ctx context.Context, accountID string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&AccountLinkRequest{}).
		Where("enterprise_account_id = ? AND status = ? AND expires_at > ?", accountID, LinkPendingApproval, s.now()).
		Count(&n).Error
	return n, err
}

// OverdueLinkRequests returns up to limit link requests still pending
// whose expires_at is before cutoff, earliest deadline first.
func (s *Store) OverdueLinkRequests(ctx context.Context, cutoff time.Time, limit int) ([]OverdueFlow, error) {
	var flows []OverdueFlow
	err := s.db.WithContext(ctx).Model(&AccountLinkRequest{}).
		Select("id, workflow_id, expires_at").
		Where("status = ? AND expires_at < ?", LinkPendingApproval, cutoff.UTC()).
		Order("expires_at ASC").
		Limit(limit).
		Scan(&flows).Error
	if err != nil {
		return nil, fmt.Errorf("unable to list overdue account link requests: %w", err)
	}
	return flows, nil
}
