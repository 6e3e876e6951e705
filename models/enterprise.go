package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/secure"
)

// Trust levels of an enterprise account (账户可信等级).
const (
	TrustCertified   = "certified"
	TrustUncertified = "uncertified"
)

// Roles a person can hold in an enterprise account, in the order responses
// list them.
const (
	RoleApplicant           = "applicant"            // 账号申请人
	RoleLegalRepresentative = "legal_representative" // 法定代表人
	RoleAgent               = "agent"                // 经办人
)

var roleOrder = []string{RoleApplicant, RoleLegalRepresentative, RoleAgent}

// How a person came to hold a role: the via of a membership.
const (
	ViaRegistration  = "registration"  // registered the account themselves
	ViaInvitation    = "invitation"    // accepted an agent invitation
	ViaCertification = "certification" // through a certification request
	ViaLinkApproval  = "link_approval" // the applicant approved a link request
)

// Errors of the enterprise-account methods.
var (
	ErrEnterpriseNameMismatch = errors.New("models: enterprise name differs from the registry")
	ErrEnterpriseInactive     = errors.New("models: enterprise is deregistered")
	ErrAccountExists          = errors.New("models: the applicant already has an account for this enterprise")
)

// EnterpriseAccount is an enterprise account (企业账号). LoginName and
// PasswordHash are set together by SetCredentials.
type EnterpriseAccount struct {
	ID                   string `gorm:"primaryKey"`
	USCC                 string `gorm:"column:uscc"`
	EnterpriseName       string
	TrustLevel           string
	ApplicantPersonID    string
	LoginName            *string
	PasswordHash         *string
	CredentialsUpdatedAt *time.Time
	CertifiedAt          *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Certified reports whether the account is certified.
func (a EnterpriseAccount) Certified() bool { return a.TrustLevel == TrustCertified }

// Membership is one role of one person in an account. A revoked membership
// is kept as history. AuthorizedBy is nil for ViaRegistration, because the
// person registered the account themselves.
type Membership struct {
	ID                  string `gorm:"primaryKey"`
	EnterpriseAccountID string
	PersonID            string
	Role                string
	Via                 string
	AuthorizedBy        *string
	AuthorizedAt        time.Time
	RevokedAt           *time.Time
	RevokedBy           *string
}

// MemberAccount is an account together with the current roles of one of
// its members.
type MemberAccount struct {
	EnterpriseAccount
	Roles []string
}

// HasRole reports whether the member holds any of roles.
func (m MemberAccount) HasRole(roles ...string) bool {
	for _, role := range roles {
		if slices.Contains(m.Roles, role) {
			return true
		}
	}
	return false
}

// CreateEnterpriseAccount registers an account for enterprise with the
// person as its applicant. claimedName is the name the person typed; it must
// equal the registry's name once full- and half-width brackets and spaces
// are normalised. The account is certified when the person's verified
// identity is the registry's legal representative.
//
// It returns ErrEnterpriseNameMismatch, ErrEnterpriseInactive, ErrNotFound
// for an unknown person, or ErrAccountExists when the person already
// applied for this enterprise, which the database's unique constraint
// decides even for concurrent calls.
func (s *Store) CreateEnterpriseAccount(ctx context.Context, personID, claimedName string, enterprise registry.Enterprise) (MemberAccount, error) {
	if identity.NormalizeEnterpriseName(claimedName) != identity.NormalizeEnterpriseName(enterprise.Name) {
		return MemberAccount{}, ErrEnterpriseNameMismatch
	}
	if !enterprise.Active() {
		return MemberAccount{}, ErrEnterpriseInactive
	}
	person, err := s.Person(ctx, personID)
	if err != nil {
		return MemberAccount{}, err
	}
	isLegalRep, err := s.isLegalRepresentative(person, enterprise.LegalRep)
	if err != nil {
		return MemberAccount{}, err
	}

	now := s.now()
	account := EnterpriseAccount{
		ID:                secure.NewID(),
		USCC:              enterprise.USCC,
		EnterpriseName:    enterprise.Name,
		TrustLevel:        TrustUncertified,
		ApplicantPersonID: person.ID,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	roles := []string{RoleApplicant, RoleAgent}
	if isLegalRep {
		account.TrustLevel = TrustCertified
		account.CertifiedAt = &now
		roles = []string{RoleApplicant, RoleLegalRepresentative}
	}

	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Any conflict here is the (uscc, applicant_person_id) constraint:
		// the id is new and the login name is still NULL.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&account)
		if res.Error != nil {
			return fmt.Errorf("unable to insert enterprise account: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrAccountExists
		}
		for _, role := range roles {
			if err := s.grantRole(tx, account.ID, person.ID, role, ViaRegistration, nil); err != nil {
				return err
			}
		}
		return s.recordAudit(tx, AuditEntry{
			AccountID: account.ID,
			Actor:     person.ID,
			Subject:   person.ID,
			Action:    AuditAccountCreated,
			Detail:    map[string]any{"trust_level": account.TrustLevel, "roles": roles},
		})
	})
	if err != nil {
		return MemberAccount{}, err
	}
	return MemberAccount{EnterpriseAccount: account, Roles: roles}, nil
}

// isLegalRepresentative compares the person's verified identity with the
// registry's legal representative: document type and number through the
// keyed lookup hash, and the canonical name.
func (s *Store) isLegalRepresentative(p Person, rep registry.LegalRepresentative) (bool, error) {
	if p.IDType != string(rep.IDType) {
		return false, nil
	}
	if !secure.Equal(p.IDHash, s.LookupHash(string(rep.IDType), rep.IDNumber)) {
		return false, nil
	}
	name, err := s.PersonName(p)
	if err != nil {
		return false, fmt.Errorf("unable to decrypt person name: %w", err)
	}
	return secure.Equal(name, rep.Name), nil
}

// grantRole inserts a current membership. authorizedBy is nil for
// ViaRegistration.
func (s *Store) grantRole(tx *gorm.DB, accountID, personID, role, via string, authorizedBy *string) error {
	m := Membership{
		ID:                  secure.NewID(),
		EnterpriseAccountID: accountID,
		PersonID:            personID,
		Role:                role,
		Via:                 via,
		AuthorizedBy:        authorizedBy,
		AuthorizedAt:        s.now(),
	}
	if err := tx.Create(&m).Error; err != nil {
		return fmt.Errorf("unable to insert membership: %w", err)
	}
	return nil
}

// EnterpriseAccount returns the account with id.
func (s *Store) EnterpriseAccount(ctx context.Context, id string) (EnterpriseAccount, error) {
	var a EnterpriseAccount
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error
	return a, notFound(err)
}

// MemberAccount returns the account with id and the person's current roles
// in it. It returns ErrNotFound when the account does not exist or the
// person is not a current member, so that callers cannot tell the two apart.
func (s *Store) MemberAccount(ctx context.Context, accountID, personID string) (MemberAccount, error) {
	db := s.db.WithContext(ctx)
	var roles []string
	err := db.Model(&Membership{}).
		Where("enterprise_account_id = ? AND person_id = ? AND revoked_at IS NULL", accountID, personID).
		Pluck("role", &roles).Error
	if err != nil {
		return MemberAccount{}, err
	}
	if len(roles) == 0 {
		return MemberAccount{}, ErrNotFound
	}
	account, err := s.EnterpriseAccount(ctx, accountID)
	if err != nil {
		return MemberAccount{}, err
	}
	return MemberAccount{EnterpriseAccount: account, Roles: sortRoles(roles)}, nil
}

// AccountsOfPerson lists the accounts the person is a current member of,
// oldest first, each with the person's roles.
func (s *Store) AccountsOfPerson(ctx context.Context, personID string) ([]MemberAccount, error) {
	db := s.db.WithContext(ctx)
	var memberships []Membership
	err := db.Where("person_id = ? AND revoked_at IS NULL", personID).Find(&memberships).Error
	if err != nil {
		return nil, err
	}
	roles := make(map[string][]string)
	ids := make([]string, 0, len(memberships))
	for _, m := range memberships {
		if _, seen := roles[m.EnterpriseAccountID]; !seen {
			ids = append(ids, m.EnterpriseAccountID)
		}
		roles[m.EnterpriseAccountID] = append(roles[m.EnterpriseAccountID], m.Role)
	}
	if len(ids) == 0 {
		return []MemberAccount{}, nil
	}

	var accounts []EnterpriseAccount
	if err := db.Where("id IN ?", ids).Order("created_at, id").Find(&accounts).Error; err != nil {
		return nil, err
	}
	out := make([]MemberAccount, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, MemberAccount{EnterpriseAccount: a, Roles: sortRoles(roles[a.ID])})
	}
	return out, nil
}

// sortRoles orders roles as roleOrder does and drops repeats.
func sortRoles(roles []string) []string {
	out := make([]string, 0, len(roles))
	for _, role := range roleOrder {
		if slices.Contains(roles, role) {
			out = append(out, role)
		}
	}
	return out
}

// StartEnterpriseSession starts a session acting for the account
// (选择办事) for the person of a face-verified person session. The new
// session ends no later than the person session, so choosing an enterprise
// never extends a face login. It returns ErrNotFound when the person is not
// a current member.
func (s *Store) StartEnterpriseSession(ctx context.Context, parent Session, accountID, tokenHash string, expiresAt time.Time) (MemberAccount, Session, error) {
	account, err := s.MemberAccount(ctx, accountID, parent.PersonID)
	if err != nil {
		return MemberAccount{}, Session{}, err
	}
	if parent.ExpiresAt.Before(expiresAt) {
		expiresAt = parent.ExpiresAt
	}
	session := Session{
		ID:                  secure.NewID(),
		TokenHash:           tokenHash,
		Kind:                SessionEnterprise,
		PersonID:            parent.PersonID,
		EnterpriseAccountID: &account.ID,
		ExpiresAt:           expiresAt.UTC(),
		CreatedAt:           s.now(),
	}
	if err := s.db.WithContext(ctx).Create(&session).Error; err != nil {
		return MemberAccount{}, Session{}, fmt.Errorf("unable to insert session: %w", err)
	}
	return account, session, nil
}
