package models_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

// newPersonID stores a successful face login of a synthetic person named
// name and returns the person's id.
func newPersonID(t *testing.T, store *models.Store, name string, seq int) string {
	t.Helper()
	who := models.Identity{IDType: "resident_id", Name: name,
		IDNumber: identitytest.ResidentID("440104", time.Date(1990, 5, 6, 0, 0, 0, 0, time.UTC), seq)}
	in := newLogin(t, store, who.IDNumber)
	personID, err := store.SucceedFaceLogin(context.Background(), in.LoginID, who, secure.HashToken(secure.NewToken()), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return personID
}

// createFeedback stores feedback and waits a little, so that the next
// entry gets a later created_at and the expected order is unambiguous.
func createFeedback(t *testing.T, store *models.Store, personID, content, contact string) models.FeedbackEntry {
	t.Helper()
	entry, err := store.CreateFeedback(context.Background(), models.NewFeedback{
		ID: secure.NewID(), PersonID: personID, Content: content, Contact: contact,
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	return entry
}

func feedbackIDs(entries []models.FeedbackEntry) []string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

func sameIDs(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestFeedback_HistoryRepliesAndStaffQueue(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		ouyang := newPersonID(t, store, "欧阳明轩", 11)
		wang := newPersonID(t, store, "王芳", 12)
		first := createFeedback(t, store, ouyang, "人脸识别一直失败", "13800138000")
		second := createFeedback(t, store, ouyang, "经办人授权链接打不开\n请帮忙看看", "")
		other := createFeedback(t, store, wang, "无法添加企业", "")

		reply, err := store.AddFeedbackReply(ctx, first.ID, secure.NewID(), "您好，请在光线充足处重试。")
		if err != nil {
			t.Fatal(err)
		}

		history, next, err := store.ListFeedback(ctx, models.FeedbackQuery{PersonID: ouyang, NewestFirst: true, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if next != "" {
			t.Errorf("next cursor = %q on the only page", next)
		}
		if got, want := feedbackIDs(history), []string{second.ID, first.ID}; !sameIDs(got, want) {
			t.Fatalf("history = %v, want %v (newest first, own feedback only)", got, want)
		}
		if history[0].Content != "经办人授权链接打不开\n请帮忙看看" || history[0].Contact != "" {
			t.Errorf("second feedback = %q / %q", history[0].Content, history[0].Contact)
		}
		if history[1].Contact != "13800138000" || history[1].Status != models.FeedbackReplied {
			t.Errorf("first feedback contact %q status %s, want the contact and replied", history[1].Contact, history[1].Status)
		}
		if len(history[1].Replies) != 1 || history[1].Replies[0].ID != reply.ID || history[1].Replies[0].Content != reply.Content {
			t.Errorf("replies = %+v, want the staff reply", history[1].Replies)
		}
		if history[0].Replies == nil || len(history[0].Replies) != 0 {
			t.Errorf("feedback without replies has %+v, want an empty list", history[0].Replies)
		}

		open, _, err := store.ListFeedback(ctx, models.FeedbackQuery{Status: models.FeedbackOpen, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := feedbackIDs(open), []string{second.ID, other.ID}; !sameIDs(got, want) {
			t.Fatalf("open queue = %v, want %v (oldest first)", got, want)
		}
		if open[0].ReporterNameMasked != "欧阳**" || open[1].ReporterNameMasked != "王*" {
			t.Errorf("reporters = %q and %q, want 欧阳** and 王*", open[0].ReporterNameMasked, open[1].ReporterNameMasked)
		}
		replied, _, err := store.ListFeedback(ctx, models.FeedbackQuery{Status: models.FeedbackReplied, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if got := feedbackIDs(replied); !sameIDs(got, []string{first.ID}) {
			t.Errorf("replied = %v, want only %s", got, first.ID)
		}
	})
}

func TestFeedback_SealedAtRest(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		personID := newPersonID(t, store, "李娜", 21)
		entry := createFeedback(t, store, personID, "我的手机号是 13912345678", "13912345678")
		if _, err := store.AddFeedbackReply(ctx, entry.ID, secure.NewID(), "已回电 13912345678"); err != nil {
			t.Fatal(err)
		}

		var row models.Feedback
		if err := store.DB().Where("id = ?", entry.ID).Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(row.ContentEnc, []byte("13912345678")) || bytes.Contains(row.ContactEnc, []byte("13912345678")) {
			t.Error("feedback row holds the content or contact in clear")
		}
		var reply models.FeedbackReply
		if err := store.DB().Where("feedback_id = ?", entry.ID).Take(&reply).Error; err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(reply.ContentEnc, []byte("13912345678")) {
			t.Error("reply row holds its content in clear")
		}

		// A sealed value copied into another row must not open there.
		copied := createFeedback(t, store, personID, "另一条", "")
		if err := store.DB().Model(&models.Feedback{}).Where("id = ?", copied.ID).Update("content_enc", row.ContentEnc).Error; err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.ListFeedback(ctx, models.FeedbackQuery{PersonID: personID, Limit: 20}); err == nil {
			t.Error("content sealed for one row opened in another")
		}
	})
}

func TestListFeedback_PagesWithCursor(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		personID := newPersonID(t, store, "刘洋", 31)
		var created []string
		for i := 0; i < 5; i++ {
			created = append(created, createFeedback(t, store, personID, "反馈", "").ID)
		}

		for _, newestFirst := range []bool{false, true} {
			var seen []string
			cursor := ""
			for page := 0; ; page++ {
				entries, next, err := store.ListFeedback(ctx, models.FeedbackQuery{PersonID: personID, NewestFirst: newestFirst, Cursor: cursor, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				if len(entries) > 2 {
					t.Fatalf("page %d has %d entries, want at most 2", page, len(entries))
				}
				seen = append(seen, feedbackIDs(entries)...)
				if next == "" {
					break
				}
				if page > 5 {
					t.Fatal("pagination does not end")
				}
				cursor = next
			}
			want := created
			if newestFirst {
				want = []string{created[4], created[3], created[2], created[1], created[0]}
			}
			if !sameIDs(seen, want) {
				t.Errorf("newest first %v: pages gave %v, want %v", newestFirst, seen, want)
			}
		}

		for _, bad := range []string{"not base64!", "bm90LWEtY3Vyc29y", "MjAyNnxhYmM"} {
			if _, _, err := store.ListFeedback(ctx, models.FeedbackQuery{PersonID: personID, Cursor: bad, Limit: 2}); !errors.Is(err, models.ErrInvalidCursor) {
				t.Errorf("cursor %q: err = %v, want ErrInvalidCursor", bad, err)
			}
		}
	})
}

func TestAddFeedbackReply_UnknownFeedback(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		_, err := store.AddFeedbackReply(context.Background(), secure.NewID(), secure.NewID(), "您好")
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestCountFeedbackSince_CountsOnePerson(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		chen := newPersonID(t, store, "陈静", 41)
		huang := newPersonID(t, store, "黄磊", 42)
		before := time.Now().Add(-time.Second)
		createFeedback(t, store, chen, "一", "")
		createFeedback(t, store, chen, "二", "")
		createFeedback(t, store, huang, "三", "")

		n, err := store.CountFeedbackSince(ctx, chen, before)
		if err != nil || n != 2 {
			t.Errorf("count = %d (err %v), want 2", n, err)
		}
		n, err = store.CountFeedbackSince(ctx, chen, time.Now().Add(time.Second))
		if err != nil || n != 0 {
			t.Errorf("count from the future = %d (err %v), want 0", n, err)
		}
	})
}
