package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/gdyst/accountflows/secure"
)

// Password rules: length over complexity, as NIST SP 800-63B advises. There
// is no rule about character classes, because such rules lead to guessable
// patterns and forgotten passwords.
const (
	MinPasswordRunes = 10
	MaxPasswordRunes = 128
)

// Lockout of 法人账号 password login. The failures are counted in the
// database, so the limit holds across API processes and restarts.
const (
	MaxLoginFailures = 5
	LoginLockout     = 15 * time.Minute
)

// Errors of the credential methods.
var (
	ErrInvalidLoginName   = errors.New("models: invalid login name")
	ErrWeakPassword       = errors.New("models: password does not meet the rules")
	ErrLoginNameTaken     = errors.New("models: login name is taken")
	ErrInvalidCredentials = errors.New("models: invalid login name or password")
	ErrLoginLocked        = errors.New("models: login name is locked")
)

var loginNamePattern = regexp.MustCompile(`^[a-z0-9_.-]{4,32}$`)

// NormalizeLoginName validates a 法人账号 login name and returns its
// canonical form: surrounding spaces removed and letters lowercased, so that
// login names are case-insensitive. The canonical form is 4 to 32 of
// a-z, 0-9, '_', '.' and '-'. Errors wrap ErrInvalidLoginName.
func NormalizeLoginName(s string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if !loginNamePattern.MatchString(name) {
		return "", ErrInvalidLoginName
	}
	return name, nil
}

// CheckPassword applies the password rules to a password for the canonical
// loginName: 10 to 128 characters after NFKC normalisation, no control
// characters, not one character repeated, and not containing the login
// name. Errors wrap ErrWeakPassword with the rule that failed, never the
// password.
func CheckPassword(password, loginName string) error {
	pw := secure.NormalizePassword(password)
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordRunes || n > MaxPasswordRunes {
		return fmt.Errorf("%w: must be %d to %d characters", ErrWeakPassword, MinPasswordRunes, MaxPasswordRunes)
	}
	if strings.IndexFunc(pw, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: contains a control character", ErrWeakPassword)
	}
	first, _ := utf8.DecodeRuneInString(pw)
	if strings.Trim(pw, string(first)) == "" {
		return fmt.Errorf("%w: repeats one character", ErrWeakPassword)
	}
	if loginName != "" && strings.Contains(strings.ToLower(pw), loginName) {
		return fmt.Errorf("%w: contains the login name", ErrWeakPassword)
	}
	return nil
}

// SetClock replaces the store's clock, which decides session expiry and
// lockout. Tests use it to move time; call it before the store is shared.
func (s *Store) SetClock(now func() time.Time) {
	s.now = func() time.Time { return now().UTC() }
}

// SetCredentials sets or changes an account's login name and password
// (法人账号) for the applicant actorPersonID, whom the caller has authorised.
// The password is hashed with argon2id before the transaction starts. The
// change ends the account's sessions from password login and clears any
// lockout of the new login name, because the applicant has just proved who
// they are.
//
// It returns ErrInvalidLoginName, ErrWeakPassword, ErrLoginNameTaken (which
// the unique constraint decides even for concurrent calls) or ErrNotFound.
func (s *Store) SetCredentials(ctx context.Context, accountID, actorPersonID, loginName, password string) (EnterpriseAccount, error) {
	name, err := NormalizeLoginName(loginName)
	if err != nil {
		return EnterpriseAccount{}, err
	}
	if err := CheckPassword(password, name); err != nil {
		return EnterpriseAccount{}, err
	}
	hash, err := secure.HashPassword(ctx, password)
	if err != nil {
		return EnterpriseAccount{}, fmt.Errorf("unable to hash password: %w", err)
	}

	var account EnterpriseAccount
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", accountID).Take(&account).Error; err != nil {
			return notFound(err)
		}
		now := s.now()
		action := AuditCredentialsChanged
		if account.LoginName == nil {
			action = AuditCredentialsSet
		}
		nameChanged := account.LoginName == nil || *account.LoginName != name

		err := tx.Model(&EnterpriseAccount{}).Where("id = ?", accountID).Updates(map[string]any{
			"login_name":             name,
			"password_hash":          hash,
			"credentials_updated_at": now,
			"updated_at":             now,
		}).Error
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return ErrLoginNameTaken
		}
		if err != nil {
			return fmt.Errorf("unable to update credentials: %w", err)
		}
		account.LoginName, account.PasswordHash = &name, &hash
		account.CredentialsUpdatedAt, account.UpdatedAt = &now, now

		err = tx.Model(&Session{}).
			Where("enterprise_account_id = ? AND password_login = ? AND revoked_at IS NULL", accountID, true).
			Update("revoked_at", now).Error
		if err != nil {
			return fmt.Errorf("unable to end password sessions: %w", err)
		}
		if err := tx.Where("login_name_hash = ?", s.loginNameHash(name)).Delete(&LoginAttempt{}).Error; err != nil {
			return fmt.Errorf("unable to clear lockout: %w", err)
		}
		return s.recordAudit(tx, AuditEntry{
			AccountID: accountID,
			Actor:     actorPersonID,
			Action:    action,
			Detail:    map[string]any{"login_name_changed": nameChanged, "password_changed": true},
		})
	})
	if err != nil {
		return EnterpriseAccount{}, err
	}
	return account, nil
}

// LoginAttempt counts the failed password logins in a row for one login
// name. The name is stored only as a keyed hash, because it may be an
// unregistered one typed by mistake or by someone guessing.
type LoginAttempt struct {
	LoginNameHash string `gorm:"primaryKey"`
	Failures      int
	LockedUntil   *time.Time
	UpdatedAt     time.Time
}

func (s *Store) loginNameHash(name string) string {
	return s.keys.LookupHash("login_name", name)
}

// PasswordLogin checks a 法人账号 login name and password and, when they
// match, starts an enterprise session acting as the account's applicant.
// tokenHash is the hash of the new session's token.
//
// An unknown or malformed name and a wrong password both return
// ErrInvalidCredentials after the same argon2id work, so neither the
// response nor its timing reveals which names exist. MaxLoginFailures failures in a
// row, for known and unknown names alike, lock the name for LoginLockout:
// later attempts return ErrLoginLocked without checking the password until
// the lock ends. A success resets the count.
func (s *Store) PasswordLogin(ctx context.Context, loginName, password, tokenHash string, ttl time.Duration) (MemberAccount, Session, error) {
	name, err := NormalizeLoginName(loginName)
	if err != nil {
		return MemberAccount{}, Session{}, s.rejectLogin(ctx, password)
	}
	nameHash := s.loginNameHash(name)
	locked, err := s.loginLocked(ctx, nameHash)
	if err != nil {
		return MemberAccount{}, Session{}, err
	}
	if locked {
		return MemberAccount{}, Session{}, ErrLoginLocked
	}

	var account EnterpriseAccount
	err = s.db.WithContext(ctx).Where("login_name = ?", name).Take(&account).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return MemberAccount{}, Session{}, err
	}
	known := err == nil && account.PasswordHash != nil
	var match bool
	if known {
		match, err = secure.VerifyPassword(ctx, *account.PasswordHash, password)
	} else {
		err = secure.VerifyDummyPassword(ctx, password)
	}
	if err != nil {
		return MemberAccount{}, Session{}, fmt.Errorf("unable to verify password: %w", err)
	}
	if !match {
		var accountID string
		if known {
			accountID = account.ID
		}
		if err := s.recordLoginFailure(ctx, nameHash, accountID); err != nil {
			return MemberAccount{}, Session{}, err
		}
		return MemberAccount{}, Session{}, ErrInvalidCredentials
	}
	return s.succeedPasswordLogin(ctx, account, nameHash, tokenHash, ttl)
}

// rejectLogin rejects a login whose name cannot exist, after the same
// argon2id work as any other login.
func (s *Store) rejectLogin(ctx context.Context, password string) error {
	if err := secure.VerifyDummyPassword(ctx, password); err != nil {
		return fmt.Errorf("unable to verify password: %w", err)
	}
	return ErrInvalidCredentials
}

// loginLocked reports whether the login name is locked now.
func (s *Store) loginLocked(ctx context.Context, nameHash string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&LoginAttempt{}).
		Where("login_name_hash = ? AND locked_until > ?", nameHash, s.now()).
		Count(&n).Error
	return n > 0, err
}

// recordLoginFailure counts one failure atomically. The failure that
// reaches MaxLoginFailures locks the name, restarts the count, and, for a
// registered name, adds an audit event to its account.
func (s *Store) recordLoginFailure(ctx context.Context, nameHash, accountID string) error {
	now := s.now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var failures int
		err := tx.Raw(`INSERT INTO login_attempts (login_name_hash, failures, updated_at) VALUES (?, 1, ?)
			ON CONFLICT (login_name_hash) DO UPDATE
			SET failures = login_attempts.failures + 1, updated_at = excluded.updated_at
			RETURNING failures`, nameHash, now).Scan(&failures).Error
		if err != nil {
			return fmt.Errorf("unable to count login failure: %w", err)
		}
		if failures < MaxLoginFailures {
			return nil
		}
		err = tx.Model(&LoginAttempt{}).Where("login_name_hash = ?", nameHash).Updates(map[string]any{
			"failures":     0,
			"locked_until": now.Add(LoginLockout),
		}).Error
		if err != nil {
			return fmt.Errorf("unable to lock login name: %w", err)
		}
		if accountID == "" {
			return nil
		}
		return s.recordAudit(tx, AuditEntry{
			AccountID: accountID,
			Action:    AuditLoginLocked,
			Detail:    map[string]any{"failures": MaxLoginFailures, "locked_minutes": int(LoginLockout / time.Minute)},
		})
	})
}

// succeedPasswordLogin resets the failure count and starts the session as
// the applicant. An applicant who is no longer a member cannot log in.
func (s *Store) succeedPasswordLogin(ctx context.Context, account EnterpriseAccount, nameHash, tokenHash string, ttl time.Duration) (MemberAccount, Session, error) {
	member, err := s.MemberAccount(ctx, account.ID, account.ApplicantPersonID)
	if errors.Is(err, ErrNotFound) {
		return MemberAccount{}, Session{}, ErrInvalidCredentials
	}
	if err != nil {
		return MemberAccount{}, Session{}, err
	}
	now := s.now()
	session := Session{
		ID:                  secure.NewID(),
		TokenHash:           tokenHash,
		Kind:                SessionEnterprise,
		PersonID:            account.ApplicantPersonID,
		EnterpriseAccountID: &member.ID,
		PasswordLogin:       true,
		ExpiresAt:           now.Add(ttl),
		CreatedAt:           now,
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("login_name_hash = ?", nameHash).Delete(&LoginAttempt{}).Error; err != nil {
			return fmt.Errorf("unable to reset login failures: %w", err)
		}
		if err := tx.Create(&session).Error; err != nil {
			return fmt.Errorf("unable to insert session: %w", err)
		}
		return s.recordAudit(tx, AuditEntry{
			AccountID: account.ID,
			Actor:     account.ApplicantPersonID,
			Action:    AuditPasswordLogin,
		})
	})
	if err != nil {
		return MemberAccount{}, Session{}, err
	}
	return member, session, nil
}
