package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/gdyst/accountflows/codec"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/worker"
	"github.com/gdyst/accountflows/workflows"
)

const linkPassword = "correct horse battery"

// linkableAccount is a certified account whose applicant, its legal
// representative, set a 法人账号 login name and password.
type linkableAccount struct {
	ID        string
	LoginName string
	USCC      string
	// RepSession is the applicant's enterprise session from 选择办事.
	RepSession string
}

// newLinkableAccount registers e with its legal representative and sets
// the login name.
func newLinkableAccount(t *testing.T, s *testenv.Stack, e enterprise, loginName string) linkableAccount {
	t.Helper()
	repSession, accountID := certifiedAccount(t, s, e)
	if r := setCredentials(t, s, repSession, accountID, loginName, linkPassword); r.Status != http.StatusOK {
		t.Fatalf("set credentials: status %d: %s", r.Status, r.Raw)
	}
	return linkableAccount{ID: accountID, LoginName: loginName, USCC: e.USCC, RepSession: repSession}
}

// applicantSession logs in with the account's 法人账号 and returns the response.
func (a linkableAccount) applicantSession(t *testing.T, s *testenv.Stack) response {
	t.Helper()
	r := passwordLogin(t, s, a.LoginName, linkPassword)
	if r.Status != http.StatusOK {
		t.Fatalf("password login: status %d: %s", r.Status, r.Raw)
	}
	return r
}

func requestLink(t *testing.T, s *testenv.Stack, token, loginName, uscc string) response {
	t.Helper()
	return call(t, http.MethodPost, s.URL+"/v1/account-link-requests", map[string]string{"login_name": loginName, "uscc": uscc}, bearer(token))
}

func mustRequestLink(t *testing.T, s *testenv.Stack, token string, a linkableAccount) string {
	t.Helper()
	r := requestLink(t, s, token, a.LoginName, a.USCC)
	if r.Status != http.StatusCreated {
		t.Fatalf("request link: status %d: %s", r.Status, r.Raw)
	}
	return r.str("id")
}

func decideLink(t *testing.T, s *testenv.Stack, token, id, decision string) response {
	t.Helper()
	return call(t, http.MethodPost, s.URL+"/v1/account-link-requests/"+id+"/"+decision, nil, bearer(token))
}

func linkRequest(t *testing.T, s *testenv.Stack, token, id string) response {
	t.Helper()
	return call(t, http.MethodGet, s.URL+"/v1/account-link-requests/"+id, nil, bearer(token))
}

// countAgentRows counts the person's current agent memberships of the account.
func countAgentRows(t *testing.T, s *testenv.Stack, accountID, personID string) int64 {
	t.Helper()
	var n int64
	err := s.App.Store.DB().Model(&models.Membership{}).
		Where("enterprise_account_id = ? AND person_id = ? AND role = ? AND revoked_at IS NULL", accountID, personID, models.RoleAgent).
		Count(&n).Error
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func waitForWorkflowClosed(t *testing.T, s *testenv.Stack, workflowID string) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, "workflow "+workflowID+" to close", func() bool {
		d, err := s.App.Temporal.DescribeWorkflow(context.Background(), workflowID, "")
		return err == nil && d.RawResponse.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
}

func TestAccountLink_AcceptanceFlow(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnterprise("广州市关联测试科技有限公司")
			other := newEnterprise("深圳市未认证贸易有限公司")
			s := newEnterpriseStack(t, dialect, e, other)
			account := newLinkableAccount(t, s, e, "gz-link-accept")
			requester := newPerson()
			requesterToken, requesterID := logIn(t, s, requester)

			if r := requestLink(t, s, requesterToken, account.LoginName, other.USCC); r.Status != http.StatusNotFound || r.errorCode() != "ACCOUNT_NOT_FOUND" {
				t.Errorf("mismatched USCC = %d %s, want 404 ACCOUNT_NOT_FOUND", r.Status, r.errorCode())
			}
			if r := requestLink(t, s, requesterToken, "gz-link-nobody", account.USCC); r.Status != http.StatusNotFound || r.errorCode() != "ACCOUNT_NOT_FOUND" {
				t.Errorf("unknown login name = %d %s, want 404 ACCOUNT_NOT_FOUND", r.Status, r.errorCode())
			}
			if r := requestLink(t, s, requesterToken, account.LoginName, account.USCC[:17]+"?"); r.Status != http.StatusNotFound {
				t.Errorf("malformed USCC = %d %s, want 404", r.Status, r.errorCode())
			}

			created := requestLink(t, s, requesterToken, account.LoginName, account.USCC)
			if created.Status != http.StatusCreated || created.str("status") != "pending_approval" || created.str("enterprise_name") != e.Name {
				t.Fatalf("request link = %d %s", created.Status, created.Raw)
			}
			id := created.str("id")
			expiresAt, err := time.Parse(time.RFC3339, created.str("expires_at"))
			if err != nil || expiresAt.Before(time.Now().Add(167*time.Hour)) || expiresAt.After(time.Now().Add(169*time.Hour)) {
				t.Errorf("expires_at = %q (%v), want about 168h from now", created.str("expires_at"), err)
			}
			if dup := requestLink(t, s, requesterToken, account.LoginName, account.USCC); dup.Status != http.StatusConflict || dup.errorCode() != "LINK_REQUEST_OPEN" {
				t.Errorf("duplicate request = %d %s, want 409 LINK_REQUEST_OPEN", dup.Status, dup.errorCode())
			}
			if own := linkRequest(t, s, requesterToken, id); own.Status != http.StatusOK || own.str("status") != "pending_approval" {
				t.Errorf("requester's GET = %d %s", own.Status, own.Raw)
			}
			if r := decideLink(t, s, requesterToken, id, "approve"); r.Status != http.StatusNotFound {
				t.Errorf("the requester approving = %d %s, want 404", r.Status, r.Raw)
			}

			login := account.applicantSession(t, s)
			if pending, ok := login.Body["pending_link_requests"].(float64); !ok || pending != 1 {
				t.Errorf("pending_link_requests = %v, want 1", login.Body["pending_link_requests"])
			}
			applicant := login.str("token")

			list := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+account.ID+"/link-requests?status=pending_approval", nil, bearer(applicant))
			if list.Status != http.StatusOK || !strings.Contains(string(list.Raw), id) {
				t.Fatalf("list = %d %s", list.Status, list.Raw)
			}
			if strings.Contains(string(list.Raw), requester.IDNumber) || strings.Contains(string(list.Raw), `"`+requester.Name+`"`) {
				t.Errorf("the list shows the requester unmasked: %s", list.Raw)
			}
			if !strings.Contains(string(list.Raw), `"name_masked"`) || !strings.Contains(string(list.Raw), `"id_number_masked":"`+requester.IDNumber[:4]) {
				t.Errorf("the list lacks the masked requester: %s", list.Raw)
			}
			if bad := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+account.ID+"/link-requests?status=open", nil, bearer(applicant)); bad.Status != http.StatusBadRequest {
				t.Errorf("unknown status filter = %d, want 400", bad.Status)
			}

			approved := decideLink(t, s, applicant, id, "approve")
			if approved.Status != http.StatusOK || approved.str("status") != "approved" || approved.str("requester.person_id") != requesterID {
				t.Fatalf("approve = %d %s", approved.Status, approved.Raw)
			}
			if strings.Contains(string(approved.Raw), requester.IDNumber) {
				t.Errorf("the approval response shows the full ID number: %s", approved.Raw)
			}
			if again := decideLink(t, s, applicant, id, "approve"); again.Status != http.StatusConflict || again.errorCode() != "LINK_REQUEST_NOT_PENDING" {
				t.Errorf("second approval = %d %s, want 409 LINK_REQUEST_NOT_PENDING", again.Status, again.errorCode())
			}
			if late := decideLink(t, s, applicant, id, "reject"); late.Status != http.StatusConflict || late.errorCode() != "LINK_REQUEST_NOT_PENDING" {
				t.Errorf("rejection after approval = %d %s, want 409 LINK_REQUEST_NOT_PENDING", late.Status, late.errorCode())
			}

			me := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(requesterToken))
			if !strings.Contains(string(me.Raw), account.ID) || !strings.Contains(string(me.Raw), `"roles":["agent"]`) {
				t.Errorf("the requester's /v1/me lacks the account with role agent: %s", me.Raw)
			}
			agents := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+account.ID+"/agents", nil, bearer(account.RepSession))
			if !strings.Contains(string(agents.Raw), requesterID) || !strings.Contains(string(agents.Raw), `"via":"link_approval"`) {
				t.Errorf("agents = %s, want the requester via link_approval", agents.Raw)
			}
			if own := linkRequest(t, s, requesterToken, id); own.str("status") != "approved" || own.str("enterprise_account_id") != account.ID {
				t.Errorf("requester's GET after approval = %s", own.Raw)
			}
			if r := requestLink(t, s, requesterToken, account.LoginName, account.USCC); r.Status != http.StatusConflict || r.errorCode() != "ALREADY_MEMBER" {
				t.Errorf("request by a member = %d %s, want 409 ALREADY_MEMBER", r.Status, r.errorCode())
			}

			rejectedToken, rejectedID := logIn(t, s, newPerson())
			rejectID := mustRequestLink(t, s, rejectedToken, account)
			rejected := decideLink(t, s, applicant, rejectID, "reject")
			if rejected.Status != http.StatusOK || rejected.str("status") != "rejected" {
				t.Fatalf("reject = %d %s", rejected.Status, rejected.Raw)
			}
			if n := countAgentRows(t, s, account.ID, rejectedID); n != 0 {
				t.Errorf("a rejected requester has %d agent memberships", n)
			}
			if own := linkRequest(t, s, rejectedToken, rejectID); own.str("status") != "rejected" || own.str("enterprise_account_id") != "" {
				t.Errorf("rejected requester's GET = %s", own.Raw)
			}
			if again := account.applicantSession(t, s); again.Body["pending_link_requests"] != float64(0) {
				t.Errorf("pending_link_requests after both decisions = %v, want 0", again.Body["pending_link_requests"])
			}

			uncertifiedToken, _ := logIn(t, s, newPerson())
			uncertifiedID := mustAddEnterprise(t, s, uncertifiedToken, other)
			if r := setCredentials(t, s, uncertifiedToken, uncertifiedID, "sz-uncertified", linkPassword); r.Status != http.StatusOK {
				t.Fatalf("set credentials: %d %s", r.Status, r.Raw)
			}
			if r := requestLink(t, s, rejectedToken, "sz-uncertified", other.USCC); r.Status != http.StatusUnprocessableEntity || r.errorCode() != "ACCOUNT_NOT_CERTIFIED" {
				t.Errorf("linking to an uncertified account = %d %s, want 422 ACCOUNT_NOT_CERTIFIED", r.Status, r.errorCode())
			}

			audit := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+account.ID+"/audit-events?limit=100", nil, bearer(account.RepSession))
			for _, action := range []string{models.AuditLinkRequested, models.AuditLinkApproved, models.AuditAgentAuthorized, models.AuditLinkRejected} {
				if !strings.Contains(string(audit.Raw), `"action":"`+action+`"`) {
					t.Errorf("audit events lack %s: %s", action, audit.Raw)
				}
			}

			// The flow has closed; an update sent to it now is refused by Temporal.
			waitForWorkflowClosed(t, s, workflows.AccountLinkID(id))
			_, err = s.App.Temporal.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
				WorkflowID:   workflows.AccountLinkID(id),
				UpdateName:   workflows.UpdateRejectAccountLink,
				Args:         []any{workflows.LinkDecision{ActorID: secure.NewID()}},
				WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			if err == nil {
				t.Error("an update to the closed flow was accepted")
			}
		})
	}
}

func TestAccountLink_RequesterCancels(t *testing.T) {
	e := newEnterprise("广州市撤回测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	account := newLinkableAccount(t, s, e, "gz-link-cancel")
	requesterToken, _ := logIn(t, s, newPerson())
	id := mustRequestLink(t, s, requesterToken, account)

	strangerToken, _ := logIn(t, s, newPerson())
	if r := linkRequest(t, s, strangerToken, id); r.Status != http.StatusNotFound {
		t.Errorf("someone else's GET = %d, want 404", r.Status)
	}
	if r := call(t, http.MethodDelete, s.URL+"/v1/account-link-requests/"+id, nil, bearer(strangerToken)); r.Status != http.StatusNotFound {
		t.Errorf("someone else cancelling = %d, want 404", r.Status)
	}
	applicant := account.applicantSession(t, s).str("token")
	if r := linkRequest(t, s, applicant, id); r.Status != http.StatusNotFound {
		t.Errorf("the applicant's GET of the requester's view = %d, want 404", r.Status)
	}

	cancelled := call(t, http.MethodDelete, s.URL+"/v1/account-link-requests/"+id, nil, bearer(requesterToken))
	if cancelled.Status != http.StatusOK || cancelled.str("status") != "cancelled" {
		t.Fatalf("cancel = %d %s", cancelled.Status, cancelled.Raw)
	}
	if again := call(t, http.MethodDelete, s.URL+"/v1/account-link-requests/"+id, nil, bearer(requesterToken)); again.Status != http.StatusConflict || again.errorCode() != "LINK_REQUEST_NOT_PENDING" {
		t.Errorf("second cancel = %d %s, want 409 LINK_REQUEST_NOT_PENDING", again.Status, again.errorCode())
	}
	if r := decideLink(t, s, applicant, id, "approve"); r.Status != http.StatusConflict {
		t.Errorf("approving a cancelled request = %d, want 409", r.Status)
	}
	// A cancelled request no longer blocks a new one.
	mustRequestLink(t, s, requesterToken, account)
}

// TestAccountLink_OnlyApplicantDecides: an agent of the account is a member
// and may know the account exists, so a decision by them is 403 (wrong role,
// or no enterprise session); anyone who is not a member gets 404.
func TestAccountLink_OnlyApplicantDecides(t *testing.T) {
	e, elsewhere := newEnterprise("广州市审批权限测试有限公司"), newEnterprise("佛山市其他企业有限公司")
	s := newEnterpriseStack(t, models.SQLite, e, elsewhere)
	account := newLinkableAccount(t, s, e, "gz-link-roles")
	applicant := account.applicantSession(t, s).str("token")

	agentToken, _ := logIn(t, s, newPerson())
	agentRequest := mustRequestLink(t, s, agentToken, account)
	if r := decideLink(t, s, applicant, agentRequest, "approve"); r.Status != http.StatusOK {
		t.Fatalf("approve = %d %s", r.Status, r.Raw)
	}
	agentSession := mustChooseEnterprise(t, s, agentToken, account.ID)

	requesterToken, _ := logIn(t, s, newPerson())
	id := mustRequestLink(t, s, requesterToken, account)
	for _, decision := range []string{"approve", "reject"} {
		if r := decideLink(t, s, agentSession, id, decision); r.Status != http.StatusForbidden || r.errorCode() != "FORBIDDEN" {
			t.Errorf("an agent's %s = %d %s, want 403 FORBIDDEN", decision, r.Status, r.errorCode())
		}
	}
	if r := decideLink(t, s, agentToken, id, "approve"); r.Status != http.StatusForbidden || r.errorCode() != "ENTERPRISE_SESSION_REQUIRED" {
		t.Errorf("an agent's approval from a person session = %d %s, want 403 ENTERPRISE_SESSION_REQUIRED", r.Status, r.errorCode())
	}
	if r := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+account.ID+"/link-requests", nil, bearer(agentSession)); r.Status != http.StatusForbidden {
		t.Errorf("an agent listing requests = %d, want 403", r.Status)
	}

	otherRep, _ := certifiedAccount(t, s, elsewhere)
	if r := decideLink(t, s, otherRep, id, "approve"); r.Status != http.StatusNotFound {
		t.Errorf("another enterprise's applicant approving = %d, want 404", r.Status)
	}
	if r := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+account.ID+"/link-requests", nil, bearer(otherRep)); r.Status != http.StatusNotFound {
		t.Errorf("another enterprise listing requests = %d, want 404", r.Status)
	}
	if r := decideLink(t, s, requesterToken, id, "reject"); r.Status != http.StatusNotFound {
		t.Errorf("the requester rejecting = %d, want 404", r.Status)
	}
	if r := decideLink(t, s, applicant, secure.NewID(), "approve"); r.Status != http.StatusNotFound {
		t.Errorf("approving an unknown request = %d, want 404", r.Status)
	}
	if own := linkRequest(t, s, requesterToken, id); own.str("status") != "pending_approval" {
		t.Errorf("after refused decisions the request is %s, want pending_approval", own.str("status"))
	}
}

func TestAccountLink_ConcurrentApprovalsGiveOneAgent(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnterprise("广州市并发审批测试有限公司")
			s := newEnterpriseStack(t, dialect, e)
			account := newLinkableAccount(t, s, e, "gz-link-race")
			requesterToken, requesterID := logIn(t, s, newPerson())
			id := mustRequestLink(t, s, requesterToken, account)
			applicant := account.applicantSession(t, s).str("token")

			statuses := make([]int, 16)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Go(func() { statuses[i] = decideLink(t, s, applicant, id, "approve").Status })
			}
			wg.Wait()

			ok, conflicts := 0, 0
			for _, status := range statuses {
				switch status {
				case http.StatusOK:
					ok++
				case http.StatusConflict:
					conflicts++
				}
			}
			if ok != 1 || conflicts != 15 {
				t.Errorf("%d approvals succeeded and %d conflicted (%v), want 1 and 15", ok, conflicts, statuses)
			}
			if n := countAgentRows(t, s, account.ID, requesterID); n != 1 {
				t.Errorf("%d agent memberships, want 1", n)
			}
			var events int64
			s.App.Store.DB().Model(&models.AuditEvent{}).Where("action = ?", models.AuditLinkApproved).Count(&events)
			if events != 1 {
				t.Errorf("%d approval audit events, want 1", events)
			}
		})
	}
}

func TestAccountLink_ConcurrentRequestsGiveOne(t *testing.T) {
	e := newEnterprise("广州市并发申请测试有限公司")
	s := newEnterpriseStack(t, models.Postgres, e)
	account := newLinkableAccount(t, s, e, "gz-link-twice")
	requesterToken, requesterID := logIn(t, s, newPerson())

	responses := make([]response, 8)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Go(func() { responses[i] = requestLink(t, s, requesterToken, account.LoginName, account.USCC) })
	}
	wg.Wait()

	created, open := 0, 0
	for _, r := range responses {
		switch {
		case r.Status == http.StatusCreated:
			created++
		case r.Status == http.StatusConflict && r.errorCode() == "LINK_REQUEST_OPEN":
			open++
		default:
			t.Errorf("unexpected response %d %s", r.Status, r.Raw)
		}
	}
	if created != 1 || open != len(responses)-1 {
		t.Errorf("%d requests created and %d refused as open, want 1 and %d", created, open, len(responses)-1)
	}
	var rows int64
	s.App.Store.DB().Model(&models.AccountLinkRequest{}).Where("requester_person_id = ?", requesterID).Count(&rows)
	if rows != 1 {
		t.Errorf("%d stored requests, want 1", rows)
	}
}

func TestAccountLink_IdempotencyKeyReplays(t *testing.T) {
	e := newEnterprise("广州市幂等申请测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	account := newLinkableAccount(t, s, e, "gz-link-retry")
	requesterToken, _ := logIn(t, s, newPerson())
	body := map[string]string{"login_name": account.LoginName, "uscc": account.USCC}
	headers := bearer(requesterToken)
	headers["Idempotency-Key"] = "link-" + secure.NewID()

	first := call(t, http.MethodPost, s.URL+"/v1/account-link-requests", body, headers)
	retry := call(t, http.MethodPost, s.URL+"/v1/account-link-requests", body, headers)
	if first.Status != http.StatusCreated || retry.Status != http.StatusCreated || first.str("id") != retry.str("id") {
		t.Errorf("first = %d %s, retry = %d %s; want the same 201", first.Status, first.Raw, retry.Status, retry.Raw)
	}
	body["uscc"] = newEnterprise("另一家公司").USCC
	if reused := call(t, http.MethodPost, s.URL+"/v1/account-link-requests", body, headers); reused.Status != http.StatusUnprocessableEntity || reused.errorCode() != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("same key, other body = %d %s, want 422 IDEMPOTENCY_KEY_REUSED", reused.Status, reused.errorCode())
	}
}

func TestAccountLink_ExpiresOnItsTimer(t *testing.T) {
	e := newEnterprise("广州市关联过期测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	s = restack(t, s, e, func(c *config.Config) { c.LinkRequestTTL = 3 * time.Second })
	account := newLinkableAccount(t, s, e, "gz-link-expiry")
	requesterToken, _ := logIn(t, s, newPerson())
	id := mustRequestLink(t, s, requesterToken, account)

	testenv.Eventually(t, 20*time.Second, "the request to expire", func() bool {
		return linkRequest(t, s, requesterToken, id).str("status") == "expired"
	})
	applicant := account.applicantSession(t, s)
	if applicant.Body["pending_link_requests"] != float64(0) {
		t.Errorf("pending_link_requests after the expiry = %v, want 0", applicant.Body["pending_link_requests"])
	}
	if r := decideLink(t, s, applicant.str("token"), id, "approve"); r.Status != http.StatusConflict || r.errorCode() != "LINK_REQUEST_NOT_PENDING" {
		t.Errorf("approving an expired request = %d %s, want 409 LINK_REQUEST_NOT_PENDING", r.Status, r.errorCode())
	}
	audit := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+account.ID+"/audit-events", nil, bearer(account.RepSession))
	if !strings.Contains(string(audit.Raw), models.AuditLinkExpired) {
		t.Errorf("audit events lack %s: %s", models.AuditLinkExpired, audit.Raw)
	}
}

func TestAccountLink_SweepExpiresOverdue(t *testing.T) {
	e := newEnterprise("广州市关联清理测试有限公司")
	s := newEnterpriseStack(t, models.Postgres, e)
	account := newLinkableAccount(t, s, e, "gz-link-sweep")
	_, requesterID := logIn(t, s, newPerson())
	ctx := context.Background()

	// A request whose flow no longer exists, an hour past its deadline.
	id := secure.NewID()
	err := s.App.Store.CreateLinkRequest(ctx, models.NewLinkRequest{
		ID:          id,
		AccountID:   account.ID,
		RequesterID: requesterID,
		WorkflowID:  workflows.AccountLinkID(id),
		ExpiresAt:   time.Now().Add(-time.Hour).UTC().Truncate(time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
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
	if res.Expired["account_link_requests"] != 1 {
		t.Errorf("expired %v, want 1 account link request", res.Expired)
	}
	r, err := s.App.Store.LinkRequest(ctx, id)
	if err != nil || r.Status != models.LinkExpired {
		t.Errorf("overdue request is %s (err %v), want expired", r.Status, err)
	}
}

// TestAccountLink_HistoryReplays replays the history of an approved request
// against the current workflow code, which fails on nondeterminism.
//
// With YST_RECORD_HISTORY=1 it also writes the history, sealed under
// testenv.TestDataKey, to workflows/testdata for the replay test there.
func TestAccountLink_HistoryReplays(t *testing.T) {
	record := os.Getenv("YST_RECORD_HISTORY") == "1"
	e := newEnterprise("广州市关联回放测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	if record {
		s = restack(t, s, e, func(c *config.Config) { c.DataKey = testenv.TestDataKey })
	}
	account := newLinkableAccount(t, s, e, "gz-link-replay")
	requesterToken, _ := logIn(t, s, newPerson())
	id := mustRequestLink(t, s, requesterToken, account)
	applicant := account.applicantSession(t, s).str("token")
	if r := decideLink(t, s, applicant, id, "approve"); r.Status != http.StatusOK {
		t.Fatalf("approve = %d %s", r.Status, r.Raw)
	}
	workflowID := workflows.AccountLinkID(id)
	waitForWorkflowClosed(t, s, workflowID)

	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{DataConverter: codec.DataConverter(s.App.Keys)})
	if err != nil {
		t.Fatal(err)
	}
	worker.RegisterWorkflows(replayer)
	err = replayer.ReplayWorkflowExecution(context.Background(), s.App.Temporal.WorkflowService(), testenv.QuietLogger{}, s.Config.TemporalNamespace,
		workflow.Execution{ID: workflowID})
	if err != nil {
		t.Fatalf("replay failed: %v", err)
	}
	if record {
		writeHistory(t, s, workflowID, filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "account_link_approved.json"))
	}
}
