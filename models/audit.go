package models

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gdyst/accountflows/secure"
)

// Audit actions: what happened to an account.
const (
	AuditAccountCreated     = "account_created"
	AuditCredentialsSet     = "credentials_set"
	AuditCredentialsChanged = "credentials_changed"
	AuditPasswordLogin      = "password_login"
	AuditLoginLocked        = "login_locked"
)

// Page sizes of AuditEvents.
const (
	DefaultAuditPageSize = 20
	MaxAuditPageSize     = 100
)

// ErrInvalidCursor is returned for a pagination cursor this store did not make.
var ErrInvalidCursor = errors.New("models: invalid cursor")

// AuditEvent is one entry of an account's audit trail. Detail is a JSON
// object of ids, codes, counts and flags, never personal data.
type AuditEvent struct {
	ID                  string `gorm:"primaryKey"`
	EnterpriseAccountID string
	ActorPersonID       *string
	Action              string
	SubjectPersonID     *string
	Detail              string
	CreatedAt           time.Time
}

// AuditEntry describes an event to record. Actor and Subject are person ids,
// empty when there is none (a lockout has no known actor).
type AuditEntry struct {
	AccountID string
	Actor     string
	Subject   string
	Action    string
	Detail    map[string]any
}

// recordAudit adds an event inside tx, the transaction of the change it
// records, so that the trail has an entry exactly when the change happened.
// Every Store method that changes an account, its members or its
// credentials calls it.
func (s *Store) recordAudit(tx *gorm.DB, e AuditEntry) error {
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return fmt.Errorf("unable to encode audit detail: %w", err)
		}
	}
	event := AuditEvent{
		ID:                  secure.NewID(),
		EnterpriseAccountID: e.AccountID,
		ActorPersonID:       optional(e.Actor),
		Action:              e.Action,
		SubjectPersonID:     optional(e.Subject),
		Detail:              string(detail),
		// Microseconds are what PostgreSQL keeps, so the pagination cursor
		// reads the same time back on both dialects.
		CreatedAt: s.now().Truncate(time.Microsecond),
	}
	if err := tx.Create(&event).Error; err != nil {
		return fmt.Errorf("unable to insert audit event: %w", err)
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// AuditItem is an audit event with the masked names of its actor and subject.
type AuditItem struct {
	AuditEvent
	ActorNameMasked   string
	SubjectNameMasked string
}

// auditRow is the flat row the audit query scans into.
type auditRow struct {
	ID                  string
	EnterpriseAccountID string
	ActorPersonID       *string
	Action              string
	SubjectPersonID     *string
	Detail              string
	CreatedAt           time.Time
	ActorNameMasked     *string
	SubjectNameMasked   *string
}

// AuditEvents returns up to limit events of an account, newest first,
// starting after cursor (empty for the first page). Events of the same
// microsecond come in the order of their random ids, which is arbitrary
// but the same on every call. The returned cursor is
// empty on the last page. It returns ErrInvalidCursor for a cursor it did
// not make. limit is clamped to 1..MaxAuditPageSize.
func (s *Store) AuditEvents(ctx context.Context, accountID string, limit int, cursor string) ([]AuditItem, string, error) {
	limit = min(max(limit, 1), MaxAuditPageSize)
	q := s.db.WithContext(ctx).Table("audit_events AS a").
		Select(`a.id, a.enterprise_account_id, a.actor_person_id, a.action, a.subject_person_id, a.detail, a.created_at,
			actor.name_masked AS actor_name_masked, subject.name_masked AS subject_name_masked`).
		Joins("LEFT JOIN persons AS actor ON actor.id = a.actor_person_id").
		Joins("LEFT JOIN persons AS subject ON subject.id = a.subject_person_id").
		Where("a.enterprise_account_id = ?", accountID)
	if cursor != "" {
		at, id, err := decodeAuditCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(a.created_at < ? OR (a.created_at = ? AND a.id < ?))", at, at, id)
	}
	var rows []auditRow
	// Reading one row more than the limit shows whether another page follows.
	if err := q.Order("a.created_at DESC, a.id DESC").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", err
	}

	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = encodeAuditCursor(last.CreatedAt, last.ID)
	}
	items := make([]AuditItem, 0, len(rows))
	for _, r := range rows {
		items = append(items, AuditItem{
			AuditEvent: AuditEvent{
				ID:                  r.ID,
				EnterpriseAccountID: r.EnterpriseAccountID,
				ActorPersonID:       r.ActorPersonID,
				Action:              r.Action,
				SubjectPersonID:     r.SubjectPersonID,
				Detail:              r.Detail,
				CreatedAt:           r.CreatedAt.UTC(),
			},
			ActorNameMasked:   deref(r.ActorNameMasked),
			SubjectNameMasked: deref(r.SubjectNameMasked),
		})
	}
	return items, next, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The cursor is base64url of "<created_at in RFC 3339 with nanoseconds>|<id>".
func encodeAuditCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeAuditCursor(cursor string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return time.Time{}, "", ErrInvalidCursor
	}
	stamp, id, ok := strings.Cut(string(raw), "|")
	if !ok || len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return time.Time{}, "", ErrInvalidCursor
	}
	at, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return time.Time{}, "", ErrInvalidCursor
	}
	return at.UTC(), id, nil
}
