package models

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// SessionByToken returns the live session whose token hashes to tokenHash:
// not revoked and not expired. An enterprise session is live only while its
// person is a current member of its account, so removing a member ends their
// enterprise sessions at once. Anything else is ErrNotFound.
func (s *Store) SessionByToken(ctx context.Context, tokenHash string) (Session, error) {
	var session Session
	err := s.db.WithContext(ctx).
		Where("token_hash = ? AND revoked_at IS NULL AND expires_at > ?", tokenHash, s.now()).
		Where(`(kind <> ? OR EXISTS (SELECT 1 FROM memberships AS m WHERE m.enterprise_account_id = sessions.enterprise_account_id
			AND m.person_id = sessions.person_id AND m.revoked_at IS NULL))`, SessionEnterprise).
		Take(&session).Error
	return session, notFound(err)
}

// RevokeSession ends a session at once.
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Model(&Session{}).
		Where("id = ? AND revoked_at IS NULL", id).
		Update("revoked_at", s.now()).Error
}

// PurgeSessions deletes sessions that expired or were revoked before cutoff.
func (s *Store) PurgeSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.db.WithContext(ctx).
		Where("expires_at < ? OR revoked_at < ?", cutoff.UTC(), cutoff.UTC()).
		Delete(&Session{})
	return res.RowsAffected, res.Error
}

// BeginIdempotent claims the idempotency scope for a new request. When the
// scope was claimed before, it returns that record and claimed is false.
func (s *Store) BeginIdempotent(ctx context.Context, scopeHash, requestHash string, ttl time.Duration) (IdempotencyRecord, bool, error) {
	now := s.now()
	db := s.db.WithContext(ctx)
	// An expired record no longer protects anything; drop it so the key can start afresh.
	if err := db.Where("scope_hash = ? AND expires_at < ?", scopeHash, now).Delete(&IdempotencyRecord{}).Error; err != nil {
		return IdempotencyRecord{}, false, err
	}
	rec := IdempotencyRecord{
		ScopeHash:   scopeHash,
		RequestHash: requestHash,
		State:       IdempotencyPending,
		CreatedAt:   now,
		ExpiresAt:   now.Add(ttl),
	}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&rec)
	if res.Error != nil {
		return IdempotencyRecord{}, false, res.Error
	}
	if res.RowsAffected == 1 {
		return rec, true, nil
	}
	var existing IdempotencyRecord
	err := db.Where("scope_hash = ?", scopeHash).Take(&existing).Error
	return existing, false, notFound(err)
}

// CompleteIdempotent stores the response of a claimed scope, sealed.
func (s *Store) CompleteIdempotent(ctx context.Context, scopeHash string, status int, body []byte) error {
	return s.db.WithContext(ctx).Model(&IdempotencyRecord{}).Where("scope_hash = ?", scopeHash).Updates(map[string]any{
		"state":        IdempotencyComplete,
		"status_code":  status,
		"response_enc": s.keys.Seal(body, "idempotency_records.response:"+scopeHash),
	}).Error
}

// IdempotentResponse decrypts a completed record's response body.
func (s *Store) IdempotentResponse(rec IdempotencyRecord) ([]byte, error) {
	return s.keys.Open(rec.ResponseEnc, "idempotency_records.response:"+rec.ScopeHash)
}

// AbandonIdempotent releases a claimed scope whose request failed on the
// server, so that a retry with the same key runs again.
func (s *Store) AbandonIdempotent(ctx context.Context, scopeHash string) error {
	return s.db.WithContext(ctx).Where("scope_hash = ? AND state = ?", scopeHash, IdempotencyPending).
		Delete(&IdempotencyRecord{}).Error
}
