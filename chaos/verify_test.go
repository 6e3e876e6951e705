//go:build chaos

package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// ledger checks, in the database and in Temporal, that each flow a test
// drove ended once with the status the test expects and left exactly the
// rows and audit events of that one ending.
type ledger struct {
	t        *testing.T
	db       *gorm.DB
	temporal client.Client
}

// newLedger opens the deployment's database; temporalAddr may be empty
// when the test checks workflows some other way.
func newLedger(t *testing.T, databaseURL, sqlitePath, temporalAddr string) *ledger {
	t.Helper()
	db, _, err := models.Open(databaseURL, sqlitePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	l := &ledger{t: t, db: db}
	if temporalAddr != "" {
		c, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: testenv.QuietLogger{}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		l.temporal = c
	}
	return l
}

func (l *ledger) count(query string, args ...any) int64 {
	l.t.Helper()
	n, err := l.tryCount(query, args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return n
}

// tryCount is count for goroutines other than the test's, which must not
// call t.Fatal.
func (l *ledger) tryCount(query string, args ...any) (int64, error) {
	var n int64
	if err := l.db.Raw(query, args...).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("%s: %w", query, err)
	}
	return n, nil
}

func (l *ledger) text(query string, args ...any) string {
	l.t.Helper()
	var s *string
	if err := l.db.Raw(query, args...).Scan(&s).Error; err != nil {
		l.t.Fatalf("%s: %v", query, err)
	}
	if s == nil {
		return ""
	}
	return *s
}

// workflowClosed waits until the workflow is no longer running and checks
// that it completed. After a crash the last activity of a flow may still
// wait for its start-to-close timeout, so the wait allows for that.
func (l *ledger) workflowClosed(workflowID string) {
	l.t.Helper()
	if l.temporal == nil {
		return
	}
	var status enumspb.WorkflowExecutionStatus
	err := eventually(2*time.Minute, 250*time.Millisecond, "workflow "+workflowID+" to close", func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		desc, err := l.temporal.DescribeWorkflow(ctx, workflowID, "")
		if err != nil {
			return false, err
		}
		status = desc.Status
		return status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
	})
	if err != nil {
		l.t.Error(err)
		return
	}
	if status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		l.t.Errorf("workflow %s is %s, want completed", workflowID, status)
	}
}

// login checks a face login that ended as want: one session for a login
// that succeeded, none otherwise, and no verification left pending.
func (l *ledger) login(login faceLogin, want string) {
	l.t.Helper()
	if got := l.text("SELECT status FROM face_logins WHERE id = ?", login.ID); got != want {
		l.t.Errorf("face login %s is %q, want %q", login.ID, got, want)
	}
	wantSessions := int64(0)
	if want == models.LoginSucceeded {
		wantSessions = 1
	}
	if n := l.count("SELECT count(*) FROM sessions WHERE id = ?", login.ID); n != wantSessions {
		l.t.Errorf("face login %s has %d sessions, want %d", login.ID, n, wantSessions)
	}
	if got := l.text("SELECT status FROM face_verifications WHERE id = ?", login.VerificationID); got == models.VerificationPending {
		l.t.Errorf("face login %s ended %s but its verification is still pending", login.ID, want)
	}
	l.workflowClosed(workflows.FaceLoginID(login.ID))
}

// personSessions checks that the only person sessions are those of
// succeeded face logins, one each.
func (l *ledger) personSessions() {
	l.t.Helper()
	sessions := l.count("SELECT count(*) FROM sessions WHERE kind = ?", models.SessionPerson)
	logins := l.count("SELECT count(*) FROM face_logins WHERE status = ?", models.LoginSucceeded)
	matched := l.count("SELECT count(*) FROM sessions s JOIN face_logins f ON f.id = s.id AND f.person_id = s.person_id WHERE s.kind = ? AND f.status = ?",
		models.SessionPerson, models.LoginSucceeded)
	if sessions != logins || matched != logins {
		l.t.Errorf("%d person sessions, %d of them from a succeeded login, for %d succeeded logins; want one session per login", sessions, matched, logins)
	}
}

// auditOfInvitation counts the account's audit events about one
// invitation by action.
func (l *ledger) auditOfInvitation(accountID, invitationID string) map[string]int {
	l.t.Helper()
	var rows []struct {
		Action string
		Detail string
	}
	if err := l.db.Raw("SELECT action, detail FROM audit_events WHERE enterprise_account_id = ?", accountID).Scan(&rows).Error; err != nil {
		l.t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range rows {
		var detail map[string]any
		if err := json.Unmarshal([]byte(r.Detail), &detail); err != nil {
			l.t.Fatalf("audit detail %q: %v", r.Detail, err)
		}
		if detail["invitation_id"] == invitationID {
			counts[r.Action]++
		}
	}
	return counts
}

// invitationAudit lists the audit events each final invitation status
// leaves, one of each.
var invitationAudit = map[string][]string{
	models.InvitationAccepted: {models.AuditInvitationCreated, models.AuditInvitationAccepted, models.AuditAgentAuthorized},
	models.InvitationRevoked:  {models.AuditInvitationCreated, models.AuditInvitationRevoked},
	models.InvitationFailed:   {models.AuditInvitationCreated, models.AuditInvitationFailed},
	models.InvitationExpired:  {models.AuditInvitationCreated, models.AuditInvitationExpired},
}

// invitation checks an agent invitation that ended as want: one membership
// for an accepted one and none otherwise, one audit event per transition,
// failures failed verifications, and no verification left pending.
func (l *ledger) invitation(accountID string, inv invitation, want string, failures int) {
	l.t.Helper()
	var row models.AgentInvitation
	if err := l.db.Where("id = ?", inv.ID).Take(&row).Error; err != nil {
		l.t.Errorf("invitation %s: %v", inv.ID, err)
		return
	}
	if row.Status != want {
		l.t.Errorf("invitation %s is %q, want %q", inv.ID, row.Status, want)
	}
	if row.FailedVerifications != failures {
		l.t.Errorf("invitation %s counts %d failed verifications, want %d", inv.ID, row.FailedVerifications, failures)
	}
	switch {
	case want == models.InvitationAccepted && row.AgentPersonID == nil:
		l.t.Errorf("accepted invitation %s names no agent", inv.ID)
	case want == models.InvitationAccepted:
		n := l.count("SELECT count(*) FROM memberships WHERE enterprise_account_id = ? AND person_id = ? AND role = ?",
			accountID, *row.AgentPersonID, models.RoleAgent)
		if n != 1 {
			l.t.Errorf("invitation %s made %d agent memberships, want 1", inv.ID, n)
		}
	case row.AgentPersonID != nil:
		l.t.Errorf("invitation %s ended %s but names agent %s", inv.ID, want, *row.AgentPersonID)
	}

	got := l.auditOfInvitation(accountID, inv.ID)
	wantAudit := map[string]int{}
	for _, action := range invitationAudit[want] {
		wantAudit[action] = 1
	}
	if describeCounts(got) != describeCounts(wantAudit) {
		l.t.Errorf("audit events of invitation %s: %s, want %s", inv.ID, describeCounts(got), describeCounts(wantAudit))
	}

	workflowID := workflows.AgentInvitationID(inv.ID)
	if n := l.count("SELECT count(*) FROM face_verifications WHERE workflow_id = ? AND status = ?", workflowID, models.VerificationPending); n != 0 {
		l.t.Errorf("invitation %s ended %s with %d verifications still pending", inv.ID, want, n)
	}
	l.workflowClosed(workflowID)
}

// describeCounts renders counts sorted by key, for comparison and messages.
func describeCounts(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// interruptions reads the workflow's history for traces of crashes: the
// highest attempt of any activity (above 1 when Temporal retried one) and
// the workflow tasks that timed out because their worker was gone.
func (l *ledger) interruptions(workflowID string) (maxAttempt int32, taskTimeouts int) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := l.temporal.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		event, err := iter.Next()
		if err != nil {
			l.t.Errorf("history of %s: %v", workflowID, err)
			return maxAttempt, taskTimeouts
		}
		if started := event.GetActivityTaskStartedEventAttributes(); started != nil && started.GetAttempt() > maxAttempt {
			maxAttempt = started.GetAttempt()
		}
		if event.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT {
			taskTimeouts++
		}
	}
	return maxAttempt, taskTimeouts
}

// interrupted counts the workflows whose history shows a retried activity
// or a timed-out workflow task.
func (l *ledger) interrupted(workflowIDs []string) int {
	l.t.Helper()
	n := 0
	for _, id := range workflowIDs {
		if attempt, timeouts := l.interruptions(id); attempt > 1 || timeouts > 0 {
			n++
		}
	}
	return n
}
