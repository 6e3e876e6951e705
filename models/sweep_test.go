package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

func TestOverdueFaceLogins_OnlyPendingPastCutoff(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		overdue := newLogin(t, store, zhang.IDNumber)
		ended := newLogin(t, store, zhang.IDNumber)
		current := newLogin(t, store, zhang.IDNumber)
		past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		for _, id := range []string{overdue.LoginID, ended.LoginID} {
			if err := store.DB().Model(&models.FaceLogin{}).Where("id = ?", id).Update("expires_at", past).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := store.EndFaceLogin(ctx, ended.LoginID, models.LoginFailed, "LIVENESS_FAILED"); err != nil {
			t.Fatal(err)
		}

		flows, err := store.OverdueFaceLogins(ctx, time.Now().Add(-time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(flows) != 1 {
			t.Fatalf("overdue = %+v, want only login %s", flows, overdue.LoginID)
		}
		if flows[0].ID != overdue.LoginID || flows[0].WorkflowID != overdue.WorkflowID {
			t.Errorf("overdue = %+v, want login %s of workflow %s", flows[0], overdue.LoginID, overdue.WorkflowID)
		}
		if !flows[0].ExpiresAt.Equal(past) {
			t.Errorf("expires_at = %s, want %s", flows[0].ExpiresAt, past)
		}
		if current.LoginID == flows[0].ID {
			t.Error("a login within its validity was listed")
		}

		none, err := store.OverdueFaceLogins(ctx, past, 10)
		if err != nil || len(none) != 0 {
			t.Errorf("with the cutoff at the deadline: %+v (err %v), want none", none, err)
		}
	})
}

func TestPurgeIdempotencyRecords_OnlyExpired(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		old, live := secure.NewID(), secure.NewID()
		if _, _, err := store.BeginIdempotent(ctx, old, "request", time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.BeginIdempotent(ctx, live, "request", time.Hour); err != nil {
			t.Fatal(err)
		}
		n, err := store.PurgeIdempotencyRecords(ctx, time.Now().Add(time.Second))
		if err != nil || n != 1 {
			t.Fatalf("purged %d (err %v), want 1", n, err)
		}
		var left []models.IdempotencyRecord
		if err := store.DB().Find(&left).Error; err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || left[0].ScopeHash != live {
			t.Errorf("left %+v, want only the live record", left)
		}
	})
}
