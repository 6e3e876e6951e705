package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// overdueLogin inserts a pending face login whose deadline passed an hour
// ago, as the flow's own first step would have, and returns its id.
func overdueLogin(t *testing.T, s *testenv.Stack) string {
	t.Helper()
	id := secure.NewID()
	err := s.App.Store.CreateFaceLogin(context.Background(), models.NewFaceLogin{
		LoginID:           id,
		VerificationID:    secure.NewID(),
		WorkflowID:        workflows.FaceLoginID(id),
		Provider:          "sandbox",
		ProviderTokenHash: secure.HashToken(secure.NewToken()),
		ClientSecretHash:  secure.HashToken(secure.NewToken()),
		IDHash:            secure.NewID(),
		ExpiresAt:         time.Now().Add(-time.Hour).UTC().Truncate(time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// insertSession stores a session of personID with the given end times.
func insertSession(t *testing.T, s *testenv.Stack, personID string, expiresAt time.Time, revokedAt *time.Time) string {
	t.Helper()
	session := models.Session{
		ID:        secure.NewID(),
		TokenHash: secure.HashToken(secure.NewToken()),
		Kind:      models.SessionPerson,
		PersonID:  personID,
		ExpiresAt: expiresAt.UTC(),
		RevokedAt: revokedAt,
		CreatedAt: expiresAt.Add(-2 * time.Hour).UTC(),
	}
	if err := s.App.Store.DB().Create(&session).Error; err != nil {
		t.Fatal(err)
	}
	return session.ID
}

func TestSweep_ExpiresOverdueAndPurgesSessions(t *testing.T) {
	s := testenv.NewStack(t, dev, models.Postgres)
	ctx := context.Background()
	store := s.App.Store
	token, personID := logIn(t, s, newPerson())

	// A login whose workflow is stuck: it runs on a task queue no worker
	// polls, so its own timer can never end it.
	stuck := overdueLogin(t, s)
	_, err := s.App.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        workflows.FaceLoginID(stuck),
		TaskQueue: "no-worker-" + secure.NewID()[:8],
	}, workflows.FaceLoginWorkflow, workflows.FaceLoginInput{
		LoginID:   stuck,
		Expected:  face.Identity{IDType: "resident_id", IDNumber: "synthetic", Name: "张伟"},
		ExpiresAt: time.Now().Add(-time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	// A login whose workflow no longer exists at all.
	orphan := overdueLogin(t, s)
	// A login still within its validity.
	current := startFaceLogin(t, s, newPerson())

	dayAgo := time.Now().Add(-25 * time.Hour)
	expiredLongAgo := insertSession(t, s, personID, dayAgo, nil)
	revokedLongAgo := insertSession(t, s, personID, time.Now().Add(time.Hour), &dayAgo)
	recentlyExpired := insertSession(t, s, personID, time.Now().Add(-time.Hour), nil)

	run, err := s.App.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "sweep-test-" + secure.NewID()[:8],
		TaskQueue: s.Config.TaskQueue,
	}, workflows.SweepWorkflow, workflows.SweepInput{})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.SweepResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("sweep failed: %v", err)
	}

	if res.Expired["face_logins"] != 2 {
		t.Errorf("expired %v, want 2 face logins", res.Expired)
	}
	if res.Terminated != 1 || res.TerminateFailures != 0 {
		t.Errorf("terminated %d with %d failures, want 1 and 0", res.Terminated, res.TerminateFailures)
	}
	for name, id := range map[string]string{"stuck": stuck, "orphan": orphan} {
		login, err := store.FaceLogin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if login.Status != models.LoginExpired {
			t.Errorf("%s login is %s, want expired", name, login.Status)
		}
		v, err := store.Verification(ctx, login.VerificationID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != models.VerificationExpired {
			t.Errorf("%s login's verification is %s, want expired", name, v.Status)
		}
	}
	if login, err := store.FaceLogin(ctx, current.ID); err != nil || login.Status != models.LoginPending {
		t.Errorf("login within its validity is %s (err %v), want pending", login.Status, err)
	}
	described, err := s.App.Temporal.DescribeWorkflow(ctx, workflows.FaceLoginID(stuck), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := described.RawResponse.GetWorkflowExecutionInfo().GetStatus(); got != enums.WORKFLOW_EXECUTION_STATUS_TERMINATED {
		t.Errorf("stuck workflow is %s, want terminated", got)
	}

	if res.SessionsPurged != 2 {
		t.Errorf("purged %d sessions, want 2", res.SessionsPurged)
	}
	for name, id := range map[string]string{"expired a day ago": expiredLongAgo, "revoked a day ago": revokedLongAgo} {
		var n int64
		store.DB().Model(&models.Session{}).Where("id = ?", id).Count(&n)
		if n != 0 {
			t.Errorf("session %s was kept", name)
		}
	}
	var kept int64
	store.DB().Model(&models.Session{}).Where("id = ?", recentlyExpired).Count(&kept)
	if kept != 1 {
		t.Error("a session that expired an hour ago was purged")
	}
	if r := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(token)); r.Status != http.StatusOK {
		t.Errorf("the live session stopped working: GET /v1/me = %d", r.Status)
	}
}

func TestSweep_ScheduleExistsHourly(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite)
	ctx := context.Background()

	// The raw API, because the SDK's Describe decodes payloads, which
	// another stack on this dev server may have sealed under its own key.
	var schedule *schedulepb.Schedule
	testenv.Eventually(t, 10*time.Second, "the sweep schedule to exist", func() bool {
		d, err := s.App.Temporal.WorkflowService().DescribeSchedule(ctx, &workflowservice.DescribeScheduleRequest{
			Namespace:  s.Config.TemporalNamespace,
			ScheduleId: workflows.SweepScheduleID,
		})
		schedule = d.GetSchedule()
		return err == nil
	})

	start := schedule.GetAction().GetStartWorkflow()
	if got := start.GetWorkflowType().GetName(); got != workflows.SweepWorkflow {
		t.Errorf("schedule starts %q, want %s", got, workflows.SweepWorkflow)
	}
	if len(start.GetInput().GetPayloads()) != 0 {
		t.Errorf("schedule passes input %v, want none, so that no sealed argument is stored", start.GetInput())
	}
	if start.GetUserMetadata().GetSummary() != nil {
		t.Error("schedule stores a summary, which the codec seals under the current data key")
	}

	intervals := schedule.GetSpec().GetInterval()
	if len(intervals) != 1 || intervals[0].GetInterval().AsDuration() != time.Hour {
		t.Errorf("schedule intervals = %v, want every hour", intervals)
	}
	if schedule.GetState().GetPaused() {
		t.Error("the sweep schedule is paused")
	}
}
