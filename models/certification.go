package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Certification request statuses. A request is open while it is
// pending_consent or pending_verification; every other status is final.
const (
	CertificationPendingConsent      = "pending_consent"
	CertificationPendingVerification = "pending_verification"
	CertificationCertified           = "certified"
	CertificationRefused             = "refused"
	CertificationCancelled           = "cancelled"
	CertificationExpired             = "expired"
	CertificationFailed              = "failed"
)

// openCertificationStatuses are the statuses the partial unique index
// certification_requests_one_open covers.
var openCertificationStatuses = []string{CertificationPendingConsent, CertificationPendingVerification}

// Audit actions of certification requests and of the certification itself.
const (
	AuditCertificationRequested   = "certification_requested"
	AuditCertificationAgreed      = "certification_request_agreed"
	AuditCertificationRefused     = "certification_request_refused"
	AuditCertificationCancelled   = "certification_request_cancelled"
	AuditCertificationExpired     = "certification_request_expired"
	AuditCertificationFailed      = "certification_request_failed"
	AuditAccountCertified         = "account_certified"
	AuditLegalRepresentativeAdded = "legal_representative_added"
)

// Errors of certification requests.
var (
	ErrAlreadyCertified         = errors.New("models: the enterprise account is already certified")
	ErrCertificationRequestOpen = errors.New("models: the account has an open certification request")
)

// CertificationRequest is an agent's request that the legal representative
// certify an uncertified account. The legal representative appears only as
// a masked name until the request certifies the account; LegalRepPersonID
// is set then.
type CertificationRequest struct {
	ID                  string `gorm:"primaryKey"`
	EnterpriseAccountID string
	RequesterPersonID   string
	ShareTokenHash      string
	WorkflowID          string
	Status              string
	FailedVerifications int
	LegalRepNameMasked  string
	LegalRepPersonID    *string
	ExpiresAt           time.Time
	AgreedAt            *time.Time
	EndedAt             *time.Time
	CreatedAt           time.Time
}

// Open reports whether the request still waits for the legal representative.
func (r CertificationRequest) Open() bool {
	return r.Status == CertificationPendingConsent || r.Status == CertificationPendingVerification
}

// NewCertificationRequest describes a certification request to create.
type NewCertificationRequest struct {
	ID                 string
	AccountID          string
	RequesterID        string
	ShareTokenHash     string
	WorkflowID         string
	LegalRepNameMasked string
	ExpiresAt          time.Time
}

// CreateCertificationRequest inserts a request in pending_consent. It returns
// ErrNotFound for an unknown account, ErrAlreadyCertified for a certified
// one and ErrCertificationRequestOpen when the account has an open request,
// which the database's partial unique index decides even for concurrent
// calls. A second call with the same id returns nil and changes nothing.
func (s *Store) CreateCertificationRequest(ctx context.Context, in NewCertificationRequest) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var existing CertificationRequest
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
		if account.Certified() {
			return ErrAlreadyCertified
		}
		row := CertificationRequest{
			ID:                  in.ID,
			EnterpriseAccountID: in.AccountID,
			RequesterPersonID:   in.RequesterID,
			ShareTokenHash:      in.ShareTokenHash,
			WorkflowID:          in.WorkflowID,
			Status:              CertificationPendingConsent,
			LegalRepNameMasked:  in.LegalRepNameMasked,
			ExpiresAt:           in.ExpiresAt.UTC(),
			CreatedAt:           s.now(),
		}
		// The id is new and the share token random, so a conflict here is
		// the one-open-request index.
		if err := insertOrConflict(tx, &row, ErrCertificationRequestOpen); err != nil {
			return err
		}
		return s.recordAudit(tx, AuditEntry{
			AccountID: in.AccountID,
			Actor:     in.RequesterID,
			Subject:   in.RequesterID,
			Action:    AuditCertificationRequested,
			Detail:    map[string]any{"certification_request_id": in.ID},
		})
	})
}

// CertificationRequest returns the request with id.
func (s *Store) CertificationRequest(ctx context.Context, id string) (CertificationRequest, error) {
	var r CertificationRequest
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	return r, notFound(err)
}

// CertificationRequestByShareToken finds a request by the hash of its share token.
func (s *Store) CertificationRequestByShareToken(ctx context.Context, tokenHash string) (CertificationRequest, error) {
	var r CertificationRequest
	err := s.db.WithContext(ctx).Where("share_token_hash = ?", tokenHash).Take(&r).Error
	return r, notFound(err)
}

// OpenCertificationRequest returns the account's open request, or
// ErrNotFound when it has none.
func (s *Store) OpenCertificationRequest(ctx context.Context, accountID string) (CertificationRequest, error) {
	var r CertificationRequest
	err := s.db.WithContext(ctx).
		Where("enterprise_account_id = ? AND status IN ?", accountID, openCertificationStatuses).
		Take(&r).Error
	return r, notFound(err)
}

// AgreeCertificationRequest records the legal representative's consent: a
// request in pending_consent moves to pending_verification. A request
// already in pending_verification is left as it is; one that ended returns
// ErrConflict.
func (s *Store) AgreeCertificationRequest(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r CertificationRequest
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return notFound(err)
		}
		switch r.Status {
		case CertificationPendingVerification:
			return nil
		case CertificationPendingConsent:
		default:
			return fmt.Errorf("certification request is %s: %w", r.Status, ErrConflict)
		}
		res := tx.Model(&CertificationRequest{}).Where("id = ? AND status = ?", id, CertificationPendingConsent).
			Updates(map[string]any{"status": CertificationPendingVerification, "agreed_at": s.now()})
		if res.Error != nil {
			return fmt.Errorf("unable to update certification request: %w", res.Error)
		}
		return s.recordAudit(tx, AuditEntry{
			AccountID: r.EnterpriseAccountID,
			Action:    AuditCertificationAgreed,
			Detail:    map[string]any{"certification_request_id": id},
		})
	})
}

// RecordCertificationFailure stores how many verifications of an open
// request have failed. A smaller count than the stored one changes nothing,
// so a retried activity cannot lower it.
func (s *Store) RecordCertificationFailure(ctx context.Context, id string, failures int) error {
	return s.db.WithContext(ctx).Model(&CertificationRequest{}).
		Where("id = ? AND status IN ? AND failed_verifications < ?", id, openCertificationStatuses, failures).
		Update("failed_verifications", failures).Error
}

// CertifyAccount completes an open request whose legal representative
// passed face verification, in one transaction: the account becomes
// certified, the legal representative (created from the verified identity
// on first sight) becomes a member with role legal_representative, the
// requester becomes an agent authorised by the legal representative, and
// the request is certified, with an audit event for each change.
//
// It returns the legal representative's person id. For a request already
// certified it returns the same id and changes nothing; for one that ended
// otherwise it returns ErrConflict.
func (s *Store) CertifyAccount(ctx context.Context, id string, legalRep Identity) (string, error) {
	var legalRepID string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r CertificationRequest
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return notFound(err)
		}
		if r.Status == CertificationCertified && r.LegalRepPersonID != nil {
			legalRepID = *r.LegalRepPersonID
			return nil
		}
		if !r.Open() {
			return fmt.Errorf("certification request is %s: %w", r.Status, ErrConflict)
		}
		rep, err := s.ensurePerson(tx, legalRep)
		if err != nil {
			return err
		}
		if err := s.certify(tx, r, rep.ID); err != nil {
			return err
		}
		res := tx.Model(&CertificationRequest{}).Where("id = ? AND status IN ?", id, openCertificationStatuses).
			Updates(map[string]any{"status": CertificationCertified, "legal_rep_person_id": rep.ID, "ended_at": s.now()})
		if res.Error != nil {
			return fmt.Errorf("unable to update certification request: %w", res.Error)
		}
		legalRepID = rep.ID
		return nil
	})
	return legalRepID, err
}

// certify makes the changes of CertifyAccount to the account and its
// members, each with its audit event, inside tx.
func (s *Store) certify(tx *gorm.DB, r CertificationRequest, repID string) error {
	detail := map[string]any{"certification_request_id": r.ID, "via": ViaCertification}
	now := s.now()
	res := tx.Model(&EnterpriseAccount{}).Where("id = ? AND trust_level = ?", r.EnterpriseAccountID, TrustUncertified).
		Updates(map[string]any{"trust_level": TrustCertified, "certified_at": now, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("unable to certify enterprise account: %w", res.Error)
	}
	err := s.recordAudit(tx, AuditEntry{AccountID: r.EnterpriseAccountID, Actor: repID, Subject: repID, Action: AuditAccountCertified, Detail: detail})
	if err != nil {
		return err
	}

	if err := s.ensureRole(tx, r.EnterpriseAccountID, repID, RoleLegalRepresentative, ViaCertification, nil); err != nil {
		return err
	}
	err = s.recordAudit(tx, AuditEntry{AccountID: r.EnterpriseAccountID, Actor: repID, Subject: repID, Action: AuditLegalRepresentativeAdded, Detail: detail})
	if err != nil {
		return err
	}

	if err := s.authorizeRequester(tx, r, repID); err != nil {
		return err
	}
	return s.recordAudit(tx, AuditEntry{
		AccountID: r.EnterpriseAccountID,
		Actor:     repID,
		Subject:   r.RequesterPersonID,
		Action:    AuditAgentAuthorized,
		Detail:    map[string]any{"certification_request_id": r.ID, "via": ViaCertification, "authorized_by": repID},
	})
}

// authorizeRequester makes the requester an agent authorised by the legal
// representative. An agent membership the requester holds from registering
// the account had no authoriser, so it is revoked and kept as history, and
// a new one with via certification replaces it.
func (s *Store) authorizeRequester(tx *gorm.DB, r CertificationRequest, repID string) error {
	res := tx.Model(&Membership{}).
		Where("enterprise_account_id = ? AND person_id = ? AND role = ? AND revoked_at IS NULL AND (via <> ? OR authorized_by IS NULL OR authorized_by <> ?)",
			r.EnterpriseAccountID, r.RequesterPersonID, RoleAgent, ViaCertification, repID).
		Updates(map[string]any{"revoked_at": s.now(), "revoked_by": repID})
	if res.Error != nil {
		return fmt.Errorf("unable to replace agent membership: %w", res.Error)
	}
	authorizedBy := repID
	return s.ensureRole(tx, r.EnterpriseAccountID, r.RequesterPersonID, RoleAgent, ViaCertification, &authorizedBy)
}

// certificationEndActions maps each status EndCertificationRequest accepts
// to its audit action.
var certificationEndActions = map[string]string{
	CertificationRefused:   AuditCertificationRefused,
	CertificationCancelled: AuditCertificationCancelled,
	CertificationExpired:   AuditCertificationExpired,
	CertificationFailed:    AuditCertificationFailed,
}

// EndCertificationRequest ends an open request as refused, cancelled,
// expired or failed, with an audit event. actor is the person who cancelled
// it, empty otherwise: the legal representative who refuses is not yet
// known as a person. A request that already ended is left as it is and
// ended is false.
func (s *Store) EndCertificationRequest(ctx context.Context, id, status, actor string) (ended bool, err error) {
	action, ok := certificationEndActions[status]
	if !ok {
		return false, fmt.Errorf("models: EndCertificationRequest cannot end a request as %q", status)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r CertificationRequest
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return notFound(err)
		}
		res := tx.Model(&CertificationRequest{}).Where("id = ? AND status IN ?", id, openCertificationStatuses).
			Updates(map[string]any{"status": status, "ended_at": s.now()})
		if res.Error != nil {
			return fmt.Errorf("unable to update certification request: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		ended = true
		return s.recordAudit(tx, AuditEntry{
			AccountID: r.EnterpriseAccountID,
			Actor:     actor,
			Action:    action,
			Detail:    map[string]any{"certification_request_id": id, "failed_verifications": r.FailedVerifications},
		})
	})
	return ended, err
}

// OverdueCertificationRequests returns up to limit open requests whose
// expires_at is before cutoff, earliest deadline first.
func (s *Store) OverdueCertificationRequests(ctx context.Context, cutoff time.Time, limit int) ([]OverdueFlow, error) {
	var flows []OverdueFlow
	err := s.db.WithContext(ctx).Model(&CertificationRequest{}).
		Select("id, workflow_id, expires_at").
		Where("status IN ? AND expires_at < ?", openCertificationStatuses, cutoff.UTC()).
		Order("expires_at ASC").
		Limit(limit).
		Scan(&flows).Error
	if err != nil {
		return nil, fmt.Errorf("unable to list overdue certification requests: %w", err)
	}
	return flows, nil
}
