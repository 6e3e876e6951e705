package models_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

func forEachDatabase(t *testing.T, test func(t *testing.T, store *models.Store)) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			test(t, testenv.OpenStore(t, dialect))
		})
	}
}

func newLogin(t *testing.T, store *models.Store, idNumber string) models.NewFaceLogin {
	t.Helper()
	in := models.NewFaceLogin{
		LoginID:           secure.NewID(),
		VerificationID:    secure.NewID(),
		WorkflowID:        "face-login/x",
		Provider:          "sandbox",
		ProviderTokenHash: secure.HashToken(secure.NewToken()),
		ClientSecretHash:  secure.HashToken(secure.NewToken()),
		IDHash:            store.LookupHash("resident_id", idNumber),
		ExpiresAt:         time.Now().Add(10 * time.Minute).UTC(),
	}
	if err := store.CreateFaceLogin(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return in
}

var zhang = models.Identity{IDType: "resident_id", IDNumber: identitytest.ResidentID("440106", time.Date(1988, 8, 8, 0, 0, 0, 0, time.UTC), 42), Name: "张伟"}

func TestMigrate_DownAndUpAgain(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		if err := models.MigrateDown(ctx, store.DB(), store.Dialect()); err != nil {
			t.Fatalf("down: %v", err)
		}
		if store.DB().Migrator().HasTable("face_logins") {
			t.Fatal("face_logins still exists after migrating down")
		}
		applied, err := models.Migrate(ctx, store.DB(), store.Dialect())
		if err != nil {
			t.Fatalf("up again: %v", err)
		}
		if len(applied) == 0 {
			t.Error("no migration applied after migrating down")
		}
		again, err := models.Migrate(ctx, store.DB(), store.Dialect())
		if err != nil || len(again) != 0 {
			t.Errorf("second up applied %d migrations (err %v), want none", len(again), err)
		}
	})
}

func TestCreateFaceLogin_Idempotent(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		in := newLogin(t, store, zhang.IDNumber)
		if err := store.CreateFaceLogin(context.Background(), in); err != nil {
			t.Fatalf("second create: %v", err)
		}
		login, err := store.FaceLogin(context.Background(), in.LoginID)
		if err != nil {
			t.Fatal(err)
		}
		if login.Status != models.LoginPending {
			t.Errorf("status = %s, want pending", login.Status)
		}
		n, err := store.CountFaceLoginsSince(context.Background(), in.IDHash, time.Now().Add(-time.Minute))
		if err != nil || n != 1 {
			t.Errorf("count = %d (err %v), want 1", n, err)
		}
	})
}

func TestSucceedFaceLogin_SealsPersonalData(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		in := newLogin(t, store, zhang.IDNumber)
		personID, err := store.SucceedFaceLogin(ctx, in.LoginID, zhang, secure.HashToken("t"), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		p, err := store.Person(ctx, personID)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(p.IDNumberEnc, []byte(zhang.IDNumber)) || bytes.Contains(p.NameEnc, []byte(zhang.Name)) {
			t.Fatal("person row holds the ID number or name in clear")
		}
		if got, _ := store.PersonIDNumber(p); got != zhang.IDNumber {
			t.Errorf("decrypted ID number differs")
		}
		if got, _ := store.PersonName(p); got != zhang.Name {
			t.Errorf("decrypted name = %q", got)
		}
		if p.NameMasked != "张*" {
			t.Errorf("masked name = %q, want 张*", p.NameMasked)
		}
		byIdentity, err := store.PersonByIdentity(ctx, zhang.IDType, zhang.IDNumber)
		if err != nil || byIdentity.ID != personID {
			t.Errorf("lookup by identity = %s (err %v), want %s", byIdentity.ID, err, personID)
		}
	})
}

func TestSucceedFaceLogin_ConcurrentRetriesGiveOneSession(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		in := newLogin(t, store, zhang.IDNumber)
		var wg sync.WaitGroup
		ids := make([]string, 8)
		errs := make([]error, 8)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids[i], errs[i] = store.SucceedFaceLogin(ctx, in.LoginID, zhang, secure.HashToken("token"), time.Now().Add(time.Hour))
			}()
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil {
				t.Fatalf("call %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Errorf("call %d returned person %s, call 0 %s", i, ids[i], ids[0])
			}
		}
		var sessions, persons int64
		store.DB().Model(&models.Session{}).Count(&sessions)
		store.DB().Model(&models.Person{}).Count(&persons)
		if sessions != 1 || persons != 1 {
			t.Errorf("%d sessions and %d persons, want one of each", sessions, persons)
		}
	})
}

func TestSucceedFaceLogin_SecondLoginFindsPerson(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		first, err := store.SucceedFaceLogin(ctx, newLogin(t, store, zhang.IDNumber).LoginID, zhang, secure.HashToken("a"), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		second, err := store.SucceedFaceLogin(ctx, newLogin(t, store, zhang.IDNumber).LoginID, zhang, secure.HashToken("b"), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if first != second {
			t.Errorf("second login created person %s, want %s", second, first)
		}
	})
}

func TestEndFaceLogin_KeepsFinishedOutcome(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		in := newLogin(t, store, zhang.IDNumber)
		if _, err := store.SucceedFaceLogin(ctx, in.LoginID, zhang, secure.HashToken("a"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := store.EndFaceLogin(ctx, in.LoginID, models.LoginExpired, ""); err != nil {
			t.Fatal(err)
		}
		login, _ := store.FaceLogin(ctx, in.LoginID)
		if login.Status != models.LoginSucceeded {
			t.Errorf("status = %s, want succeeded kept", login.Status)
		}

		expired := newLogin(t, store, zhang.IDNumber)
		if err := store.EndFaceLogin(ctx, expired.LoginID, models.LoginExpired, ""); err != nil {
			t.Fatal(err)
		}
		_, err := store.SucceedFaceLogin(ctx, expired.LoginID, zhang, secure.HashToken("late"), time.Now().Add(time.Hour))
		if !errors.Is(err, models.ErrConflict) {
			t.Errorf("success after expiry: err = %v, want ErrConflict", err)
		}
		v, _ := store.Verification(ctx, expired.VerificationID)
		if v.Status != models.VerificationExpired {
			t.Errorf("verification status = %s, want expired", v.Status)
		}
	})
}

func TestSessionByToken_RevokedAndExpired(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		in := newLogin(t, store, zhang.IDNumber)
		if _, err := store.SucceedFaceLogin(ctx, in.LoginID, zhang, secure.HashToken("live"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		session, err := store.SessionByToken(ctx, secure.HashToken("live"))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.RevokeSession(ctx, session.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := store.SessionByToken(ctx, secure.HashToken("live")); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("revoked session: err = %v, want ErrNotFound", err)
		}

		old := newLogin(t, store, zhang.IDNumber)
		if _, err := store.SucceedFaceLogin(ctx, old.LoginID, zhang, secure.HashToken("old"), time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := store.SessionByToken(ctx, secure.HashToken("old")); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("expired session: err = %v, want ErrNotFound", err)
		}
		purged, err := store.PurgeSessions(ctx, time.Now())
		if err != nil || purged != 2 {
			t.Errorf("purged %d sessions (err %v), want 2", purged, err)
		}
	})
}

func TestIdempotency_ClaimReplayAndAbandon(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		_, claimed, err := store.BeginIdempotent(ctx, "scope", "request", time.Hour)
		if err != nil || !claimed {
			t.Fatalf("first claim = %v (err %v), want claimed", claimed, err)
		}
		rec, claimed, err := store.BeginIdempotent(ctx, "scope", "request", time.Hour)
		if err != nil || claimed || rec.State != models.IdempotencyPending {
			t.Fatalf("second claim = %v state %s (err %v), want the pending record", claimed, rec.State, err)
		}
		if err := store.CompleteIdempotent(ctx, "scope", 201, []byte(`{"secret":"s"}`)); err != nil {
			t.Fatal(err)
		}
		rec, _, _ = store.BeginIdempotent(ctx, "scope", "request", time.Hour)
		if bytes.Contains(rec.ResponseEnc, []byte("secret")) {
			t.Error("stored response is in clear")
		}
		body, err := store.IdempotentResponse(rec)
		if err != nil || string(body) != `{"secret":"s"}` || rec.StatusCode != 201 {
			t.Errorf("replayed %d %s (err %v)", rec.StatusCode, body, err)
		}

		if _, claimed, _ := store.BeginIdempotent(ctx, "other", "request", time.Hour); !claimed {
			t.Fatal("unable to claim another scope")
		}
		if err := store.AbandonIdempotent(ctx, "other"); err != nil {
			t.Fatal(err)
		}
		if _, claimed, _ := store.BeginIdempotent(ctx, "other", "request", time.Hour); !claimed {
			t.Error("abandoned scope cannot be claimed again")
		}
	})
}
