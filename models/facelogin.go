package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// NewFaceLogin describes the rows a face login starts with.
type NewFaceLogin struct {
	LoginID           string
	VerificationID    string
	WorkflowID        string
	Provider          string
	ProviderTokenHash string
	ClientSecretHash  string
	IDHash            string
	ExpiresAt         time.Time
}

// NewVerification describes a face verification a flow starts.
type NewVerification struct {
	ID                string
	Purpose           string
	WorkflowID        string
	Provider          string
	ProviderTokenHash string
	ExpiresAt         time.Time
}

// CreateVerification inserts a pending verification. A second call with the
// same id changes nothing.
func (s *Store) CreateVerification(ctx context.Context, in NewVerification) error {
	return s.insertVerification(s.db.WithContext(ctx), in)
}

func (s *Store) insertVerification(tx *gorm.DB, in NewVerification) error {
	v := FaceVerification{
		ID:                in.ID,
		Purpose:           in.Purpose,
		WorkflowID:        in.WorkflowID,
		Provider:          in.Provider,
		ProviderTokenHash: in.ProviderTokenHash,
		Status:            VerificationPending,
		ExpiresAt:         in.ExpiresAt.UTC(),
		CreatedAt:         s.now(),
	}
	if err := insertIgnoringDuplicate(tx, &v); err != nil {
		return fmt.Errorf("unable to insert face verification: %w", err)
	}
	return nil
}

// ExpireVerification ends a verification that is still pending as expired.
func (s *Store) ExpireVerification(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Model(&FaceVerification{}).Where("id = ? AND status = ?", id, VerificationPending).
		Updates(map[string]any{"status": VerificationExpired, "completed_at": s.now()}).Error
}

// CreateFaceLogin inserts the pending login and its verification. A second
// call with the same ids changes nothing.
func (s *Store) CreateFaceLogin(ctx context.Context, in NewFaceLogin) error {
	now := s.now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := s.insertVerification(tx, NewVerification{
			ID:                in.VerificationID,
			Purpose:           PurposeFaceLogin,
			WorkflowID:        in.WorkflowID,
			Provider:          in.Provider,
			ProviderTokenHash: in.ProviderTokenHash,
			ExpiresAt:         in.ExpiresAt,
		})
		if err != nil {
			return err
		}
		login := FaceLogin{
			ID:               in.LoginID,
			VerificationID:   in.VerificationID,
			ClientSecretHash: in.ClientSecretHash,
			IDHash:           in.IDHash,
			Status:           LoginPending,
			ExpiresAt:        in.ExpiresAt,
			CreatedAt:        now,
		}
		if err := insertIgnoringDuplicate(tx, &login); err != nil {
			return fmt.Errorf("unable to insert face login: %w", err)
		}
		return nil
	})
}

// FaceLogin returns the login with id.
func (s *Store) FaceLogin(ctx context.Context, id string) (FaceLogin, error) {
	var login FaceLogin
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&login).Error
	return login, notFound(err)
}

// CountFaceLoginsSince counts the logins started for one ID number since a time.
func (s *Store) CountFaceLoginsSince(ctx context.Context, idHash string, since time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&FaceLogin{}).
		Where("id_hash = ? AND created_at >= ?", idHash, since.UTC()).Count(&n).Error
	return n, err
}

// Verification returns the face verification with id.
func (s *Store) Verification(ctx context.Context, id string) (FaceVerification, error) {
	var v FaceVerification
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&v).Error
	return v, notFound(err)
}

// VerificationByProviderToken finds a verification by the provider's token.
func (s *Store) VerificationByProviderToken(ctx context.Context, tokenHash string) (FaceVerification, error) {
	var v FaceVerification
	err := s.db.WithContext(ctx).Where("provider_token_hash = ?", tokenHash).Take(&v).Error
	return v, notFound(err)
}

// VerificationResult is the provider's verdict after the identity check.
type VerificationResult struct {
	Status         string
	FailureCode    string
	Similarity     *float64
	LivenessPassed *bool
}

// RecordVerificationResult stores the outcome of a pending verification.
// A verification that already has an outcome keeps it.
func (s *Store) RecordVerificationResult(ctx context.Context, id string, r VerificationResult) error {
	now := s.now()
	return s.db.WithContext(ctx).Model(&FaceVerification{}).
		Where("id = ? AND status = ?", id, VerificationPending).
		Updates(map[string]any{
			"status":          r.Status,
			"failure_code":    r.FailureCode,
			"similarity":      r.Similarity,
			"liveness_passed": r.LivenessPassed,
			"completed_at":    now,
		}).Error
}

// SucceedFaceLogin ends a pending login successfully: it finds or creates
// the person, creates the person session and marks the login succeeded, in
// one transaction. Called again for a login that already succeeded, it
// returns the same person id and changes nothing.
func (s *Store) SucceedFaceLogin(ctx context.Context, loginID string, who Identity, sessionTokenHash string, sessionExpiresAt time.Time) (string, error) {
	var personID string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var login FaceLogin
		if err := tx.Where("id = ?", loginID).Take(&login).Error; err != nil {
			return notFound(err)
		}
		if login.Status == LoginSucceeded && login.PersonID != nil {
			personID = *login.PersonID
			return nil
		}
		if login.Status != LoginPending {
			return fmt.Errorf("face login is %s: %w", login.Status, ErrConflict)
		}
		person, err := s.ensurePerson(tx, who)
		if err != nil {
			return err
		}
		now := s.now()
		session := Session{
			ID:        loginID,
			TokenHash: sessionTokenHash,
			Kind:      SessionPerson,
			PersonID:  person.ID,
			ExpiresAt: sessionExpiresAt.UTC(),
			CreatedAt: now,
		}
		if err := insertIgnoringDuplicate(tx, &session); err != nil {
			return fmt.Errorf("unable to insert session: %w", err)
		}
		err = tx.Model(&FaceLogin{}).Where("id = ? AND status = ?", loginID, LoginPending).Updates(map[string]any{
			"status":             LoginSucceeded,
			"person_id":          person.ID,
			"session_expires_at": sessionExpiresAt.UTC(),
			"completed_at":       now,
		}).Error
		if err != nil {
			return fmt.Errorf("unable to update face login: %w", err)
		}
		personID = person.ID
		return nil
	})
	return personID, err
}

// EndFaceLogin ends a pending login as failed or expired with a failure
// code, and expires its verification if that is still pending. A login
// that already ended is left as it is.
func (s *Store) EndFaceLogin(ctx context.Context, loginID, status, failureCode string) error {
	if status != LoginFailed && status != LoginExpired {
		return errors.New("models: EndFaceLogin takes failed or expired")
	}
	now := s.now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var login FaceLogin
		if err := tx.Where("id = ?", loginID).Take(&login).Error; err != nil {
			return notFound(err)
		}
		if login.Status != LoginPending {
			return nil
		}
		err := tx.Model(&FaceLogin{}).Where("id = ? AND status = ?", loginID, LoginPending).Updates(map[string]any{
			"status":       status,
			"failure_code": failureCode,
			"completed_at": now,
		}).Error
		if err != nil {
			return fmt.Errorf("unable to update face login: %w", err)
		}
		return tx.Model(&FaceVerification{}).Where("id = ? AND status = ?", login.VerificationID, VerificationPending).
			Updates(map[string]any{"status": VerificationExpired, "completed_at": now}).Error
	})
}
