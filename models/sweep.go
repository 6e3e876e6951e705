package models

import (
	"context"
	"fmt"
	"time"
)

// OverdueFlow is a flow still pending in the database after its deadline,
// with the workflow that owns it.
type OverdueFlow struct {
	ID         string
	WorkflowID string
	ExpiresAt  time.Time
}

// OverdueFaceLogins returns up to limit face logins still pending whose
// expires_at is before cutoff, earliest deadline first.
func (s *Store) OverdueFaceLogins(ctx context.Context, cutoff time.Time, limit int) ([]OverdueFlow, error) {
	var flows []OverdueFlow
	err := s.db.WithContext(ctx).Table("face_logins").
		Select("face_logins.id AS id, face_verifications.workflow_id AS workflow_id, face_logins.expires_at AS expires_at").
		Joins("JOIN face_verifications ON face_verifications.id = face_logins.verification_id").
		Where("face_logins.status = ? AND face_logins.expires_at < ?", LoginPending, cutoff.UTC()).
		Order("face_logins.expires_at ASC").
		Limit(limit).
		Scan(&flows).Error
	if err != nil {
		return nil, fmt.Errorf("unable to list overdue face logins: %w", err)
	}
	return flows, nil
}

// PurgeIdempotencyRecords deletes idempotency records that expired before
// cutoff. BeginIdempotent already ignores them, so this only reclaims space.
func (s *Store) PurgeIdempotencyRecords(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", cutoff.UTC()).Delete(&IdempotencyRecord{})
	return res.RowsAffected, res.Error
}
