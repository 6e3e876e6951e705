package models

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Feedback statuses: open until support staff reply for the first time.
const (
	FeedbackOpen    = "open"
	FeedbackReplied = "replied"
)

// Feedback is one piece of in-app feedback (意见反馈). People often type a
// mobile or ID number into it, so the content and the contact are sealed.
type Feedback struct {
	ID                  string `gorm:"primaryKey"`
	PersonID            string
	EnterpriseAccountID *string
	ContentEnc          []byte
	ContactEnc          []byte
	Status              string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// TableName implements gorm's Tabler, because "feedback" has no plural.
func (Feedback) TableName() string { return "feedback" }

// FeedbackReply is a support staff reply to a piece of feedback, sealed.
type FeedbackReply struct {
	ID         string `gorm:"primaryKey"`
	FeedbackID string
	ContentEnc []byte
	CreatedAt  time.Time
}

// Associated data of the sealed feedback columns. The row id is appended,
// so a value copied into another row fails to open.
const (
	adFeedbackContent = "feedback.content:"
	adFeedbackContact = "feedback.contact:"
	adReplyContent    = "feedback_replies.content:"
)

// NewFeedback is a validated piece of feedback. Contact may be empty.
type NewFeedback struct {
	ID                  string
	PersonID            string
	EnterpriseAccountID *string
	Content             string
	Contact             string
}

// FeedbackEntry is a piece of feedback decrypted for display, with its
// replies oldest first and the reporter's masked name.
type FeedbackEntry struct {
	ID                  string
	PersonID            string
	ReporterNameMasked  string
	EnterpriseAccountID *string
	Content             string
	Contact             string
	Status              string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	Replies             []FeedbackReplyEntry
}

// FeedbackReplyEntry is a reply decrypted for display.
type FeedbackReplyEntry struct {
	ID        string
	Content   string
	CreatedAt time.Time
}

// Page sizes of ListFeedback.
const (
	DefaultFeedbackPageSize = 20
	MaxFeedbackPageSize     = 100
)

// FeedbackQuery selects a page of feedback. An empty PersonID or Status
// matches every person or status. Entries are ordered by creation time,
// ties broken by id.
type FeedbackQuery struct {
	PersonID    string
	Status      string
	NewestFirst bool
	// Cursor is the next cursor of the previous page, or empty for the first.
	Cursor string
	// Limit is clamped to 1..MaxFeedbackPageSize.
	Limit int
}

// CreateFeedback stores a new piece of feedback as open.
func (s *Store) CreateFeedback(ctx context.Context, in NewFeedback) (FeedbackEntry, error) {
	// Microseconds are what PostgreSQL keeps, so the cursor built from this
	// value compares equal to the stored one on both databases.
	now := s.now().Truncate(time.Microsecond)
	row := Feedback{
		ID:                  in.ID,
		PersonID:            in.PersonID,
		EnterpriseAccountID: in.EnterpriseAccountID,
		ContentEnc:          s.keys.Seal([]byte(in.Content), adFeedbackContent+in.ID),
		Status:              FeedbackOpen,
		CreatedAt:           now,
		UpdatedAt:           now,
	}
	if in.Contact != "" {
		row.ContactEnc = s.keys.Seal([]byte(in.Contact), adFeedbackContact+in.ID)
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return FeedbackEntry{}, fmt.Errorf("unable to insert feedback: %w", err)
	}
	return FeedbackEntry{
		ID:                  row.ID,
		PersonID:            row.PersonID,
		EnterpriseAccountID: row.EnterpriseAccountID,
		Content:             in.Content,
		Contact:             in.Contact,
		Status:              row.Status,
		CreatedAt:           now,
		UpdatedAt:           now,
		Replies:             []FeedbackReplyEntry{},
	}, nil
}

// CountFeedbackSince counts the feedback a person created since a time.
func (s *Store) CountFeedbackSince(ctx context.Context, personID string, since time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Feedback{}).
		Where("person_id = ? AND created_at >= ?", personID, since.UTC()).Count(&n).Error
	return n, err
}

// AddFeedbackReply stores a staff reply and marks the feedback replied. It
// returns ErrNotFound when no feedback has feedbackID.
func (s *Store) AddFeedbackReply(ctx context.Context, feedbackID, replyID, content string) (FeedbackReplyEntry, error) {
	now := s.now().Truncate(time.Microsecond)
	reply := FeedbackReply{
		ID:         replyID,
		FeedbackID: feedbackID,
		ContentEnc: s.keys.Seal([]byte(content), adReplyContent+replyID),
		CreatedAt:  now,
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var fb Feedback
		if err := tx.Select("id").Where("id = ?", feedbackID).Take(&fb).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Create(&reply).Error; err != nil {
			return fmt.Errorf("unable to insert feedback reply: %w", err)
		}
		err := tx.Model(&Feedback{}).Where("id = ?", feedbackID).
			Updates(map[string]any{"status": FeedbackReplied, "updated_at": now}).Error
		if err != nil {
			return fmt.Errorf("unable to update feedback: %w", err)
		}
		return nil
	})
	if err != nil {
		return FeedbackReplyEntry{}, err
	}
	return FeedbackReplyEntry{ID: replyID, Content: content, CreatedAt: now}, nil
}

// ListFeedback returns one page of feedback with replies, and the cursor of
// the next page, which is empty on the last page. It returns
// ErrInvalidCursor for a cursor it did not make.
func (s *Store) ListFeedback(ctx context.Context, q FeedbackQuery) ([]FeedbackEntry, string, error) {
	limit := min(max(q.Limit, 1), MaxFeedbackPageSize)
	db := s.db.WithContext(ctx).Model(&Feedback{})
	if q.PersonID != "" {
		db = db.Where("person_id = ?", q.PersonID)
	}
	if q.Status != "" {
		db = db.Where("status = ?", q.Status)
	}
	order := "created_at ASC, id ASC"
	after := "created_at > ? OR (created_at = ? AND id > ?)"
	if q.NewestFirst {
		order = "created_at DESC, id DESC"
		after = "created_at < ? OR (created_at = ? AND id < ?)"
	}
	if q.Cursor != "" {
		at, id, err := decodeFeedbackCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		db = db.Where(after, at, at, id)
	}
	var rows []Feedback
	if err := db.Order(order).Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("unable to list feedback: %w", err)
	}

	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = encodeFeedbackCursor(last.CreatedAt, last.ID)
	}
	entries, err := s.feedbackEntries(ctx, rows)
	if err != nil {
		return nil, "", err
	}
	return entries, next, nil
}

// The cursor is base64url of "<created_at in RFC 3339 with nanoseconds>|<id>".
func encodeFeedbackCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeFeedbackCursor(cursor string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return time.Time{}, "", ErrInvalidCursor
	}
	stamp, id, ok := strings.Cut(string(raw), "|")
	if !ok || id == "" {
		return time.Time{}, "", ErrInvalidCursor
	}
	at, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return time.Time{}, "", ErrInvalidCursor
	}
	return at.UTC(), id, nil
}

// feedbackEntries decrypts rows and attaches their replies and the
// reporters' masked names.
func (s *Store) feedbackEntries(ctx context.Context, rows []Feedback) ([]FeedbackEntry, error) {
	entries := make([]FeedbackEntry, 0, len(rows))
	if len(rows) == 0 {
		return entries, nil
	}
	ids := make([]string, len(rows))
	personIDs := make([]string, len(rows))
	for i, row := range rows {
		ids[i], personIDs[i] = row.ID, row.PersonID
	}
	replies, err := s.feedbackReplies(ctx, ids)
	if err != nil {
		return nil, err
	}
	var persons []Person
	if err := s.db.WithContext(ctx).Select("id", "name_masked").Where("id IN ?", personIDs).Find(&persons).Error; err != nil {
		return nil, fmt.Errorf("unable to read reporters: %w", err)
	}
	maskedNames := make(map[string]string, len(persons))
	for _, p := range persons {
		maskedNames[p.ID] = p.NameMasked
	}

	for _, row := range rows {
		entry, err := s.openFeedback(row)
		if err != nil {
			return nil, err
		}
		entry.ReporterNameMasked = maskedNames[row.PersonID]
		entry.Replies = replies[row.ID]
		if entry.Replies == nil {
			entry.Replies = []FeedbackReplyEntry{}
		}
		entries = append(entries, entry)
	}
	return entries, nil
}

func (s *Store) openFeedback(row Feedback) (FeedbackEntry, error) {
	content, err := s.keys.Open(row.ContentEnc, adFeedbackContent+row.ID)
	if err != nil {
		return FeedbackEntry{}, fmt.Errorf("unable to decrypt feedback %s: %w", row.ID, err)
	}
	var contact []byte
	if len(row.ContactEnc) > 0 {
		if contact, err = s.keys.Open(row.ContactEnc, adFeedbackContact+row.ID); err != nil {
			return FeedbackEntry{}, fmt.Errorf("unable to decrypt contact of feedback %s: %w", row.ID, err)
		}
	}
	return FeedbackEntry{
		ID:                  row.ID,
		PersonID:            row.PersonID,
		EnterpriseAccountID: row.EnterpriseAccountID,
		Content:             string(content),
		Contact:             string(contact),
		Status:              row.Status,
		CreatedAt:           row.CreatedAt.UTC(),
		UpdatedAt:           row.UpdatedAt.UTC(),
	}, nil
}

// feedbackReplies returns the decrypted replies of each feedback id, oldest first.
func (s *Store) feedbackReplies(ctx context.Context, feedbackIDs []string) (map[string][]FeedbackReplyEntry, error) {
	var rows []FeedbackReply
	err := s.db.WithContext(ctx).Where("feedback_id IN ?", feedbackIDs).
		Order("created_at ASC, id ASC").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("unable to read feedback replies: %w", err)
	}
	replies := make(map[string][]FeedbackReplyEntry, len(feedbackIDs))
	for _, row := range rows {
		content, err := s.keys.Open(row.ContentEnc, adReplyContent+row.ID)
		if err != nil {
			return nil, fmt.Errorf("unable to decrypt feedback reply %s: %w", row.ID, err)
		}
		replies[row.FeedbackID] = append(replies[row.FeedbackID], FeedbackReplyEntry{
			ID:        row.ID,
			Content:   string(content),
			CreatedAt: row.CreatedAt.UTC(),
		})
	}
	return replies, nil
}
