package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// racers is how many requests each race sends at once.
const racers = 16

// race sends n requests at once, released together, and returns their
// responses in the order of their index.
func race(n int, send func(i int) response) []response {
	out := make([]response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = send(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// tally counts the responses by status and fails on any status outside allowed.
func tally(t *testing.T, rs []response, allowed ...int) map[int]int {
	t.Helper()
	counts := map[int]int{}
	for i, r := range rs {
		counts[r.Status]++
		ok := false
		for _, status := range allowed {
			ok = ok || r.Status == status
		}
		if !ok {
			t.Errorf("racer %d got %d %s, want one of %v", i, r.Status, r.Raw, allowed)
		}
	}
	return counts
}

// checkConflictCodes fails on a response with status but another error code.
func checkConflictCodes(t *testing.T, rs []response, status int, code string) {
	t.Helper()
	for i, r := range rs {
		if r.Status == status && r.errorCode() != code {
			t.Errorf("racer %d got %d %s, want the code %s", i, r.Status, r.errorCode(), code)
		}
	}
}

// countAudit counts the account's audit events with action.
func countAudit(t *testing.T, s *testenv.Stack, accountID, action string) int64 {
	t.Helper()
	var n int64
	err := s.App.Store.DB().Model(&models.AuditEvent{}).
		Where("enterprise_account_id = ? AND action = ?", accountID, action).Count(&n).Error
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countMemberships counts the person's memberships of the account with
// role, current ones only unless withRevoked.
func countMemberships(t *testing.T, s *testenv.Stack, accountID, personID, role string, withRevoked bool) int64 {
	t.Helper()
	q := s.App.Store.DB().Model(&models.Membership{}).
		Where("enterprise_account_id = ? AND person_id = ? AND role = ?", accountID, personID, role)
	if !withRevoked {
		q = q.Where("revoked_at IS NULL")
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// personID returns the id of the person stored for p, or "" when there is none.
func personID(t *testing.T, s *testenv.Stack, p person) string {
	t.Helper()
	stored, err := s.App.Store.PersonByIdentity(context.Background(), "resident_id", p.IDNumber)
	if err != nil {
		return ""
	}
	return stored.ID
}

func expectAudit(t *testing.T, s *testenv.Stack, accountID, action string, want int64) {
	t.Helper()
	if n := countAudit(t, s, accountID, action); n != want {
		t.Errorf("%d %s audit events, want %d", n, action, want)
	}
}

// TestRaces_OneEffectEach sends 16 identical or competing requests at once
// at one object of each flow. The database must show one outcome, with one
// membership and one audit event, and the other requests get a clear 4xx.
func TestRaces_OneEffectEach(t *testing.T) {
	names := []string{"接受", "撤销对接受", "拒绝", "同意对拒绝", "认证", "撤回认证", "撤回关联", "审批对驳回", "移除"}
	byName := map[string]enterprise{}
	var entries []enterprise
	for _, name := range names {
		e := newEnterprise("广州市并发" + name + "测试有限公司")
		byName[name] = e
		entries = append(entries, e)
	}
	s := newEnterpriseStack(t, models.Postgres, entries...)

	t.Run("accept invitation", func(t *testing.T) { raceAcceptInvitation(t, s, byName["接受"]) })
	t.Run("revoke against accept", func(t *testing.T) { raceRevokeAgainstAccept(t, s, byName["撤销对接受"]) })
	t.Run("refuse certification", func(t *testing.T) { raceRefuseCertification(t, s, byName["拒绝"]) })
	t.Run("agree against refuse", func(t *testing.T) { raceAgreeAgainstRefuse(t, s, byName["同意对拒绝"]) })
	t.Run("certify", func(t *testing.T) { raceCertify(t, s, byName["认证"]) })
	t.Run("cancel certification", func(t *testing.T) { raceCancelCertification(t, s, byName["撤回认证"]) })
	t.Run("cancel link request", func(t *testing.T) { raceCancelLinkRequest(t, s, byName["撤回关联"]) })
	t.Run("approve against reject", func(t *testing.T) { raceApproveAgainstReject(t, s, byName["审批对驳回"]) })
	t.Run("remove agent", func(t *testing.T) { raceRemoveAgent(t, s, byName["移除"]) })
}

// raceAcceptInvitation starts 16 verifications of one invitation at once,
// then passes all of them at once: the invitee becomes an agent once.
func raceAcceptInvitation(t *testing.T, s *testenv.Stack, e enterprise) {
	repSession, accountID := certifiedAccount(t, s, e)
	agent := newPerson()
	inv := mustInvite(t, s, repSession, accountID, agent)
	share := inv.str("share_token")

	started := race(racers, func(int) response {
		return call(t, http.MethodPost, s.URL+"/v1/shares/"+share+"/face-verifications", nil, nil)
	})
	tally(t, started, http.StatusCreated)
	var tokens []string
	for _, r := range started {
		if token := r.str("verification.provider_token"); token != "" {
			tokens = append(tokens, token)
		}
	}
	decided := race(len(tokens), func(i int) response {
		return call(t, http.MethodPost, s.URL+"/sandbox/face/"+tokens[i], map[string]string{"outcome": "pass"}, nil)
	})
	tally(t, decided, http.StatusNoContent)

	waitForShareStatus(t, s, share, "accepted")
	waitForWorkflowClosed(t, s, workflows.AgentInvitationID(inv.str("id")))
	agentID := personID(t, s, agent)
	if agentID == "" {
		t.Fatal("the invitee was not stored")
	}
	if n := countMemberships(t, s, accountID, agentID, models.RoleAgent, true); n != 1 {
		t.Errorf("%d agent memberships, want 1", n)
	}
	expectAudit(t, s, accountID, models.AuditInvitationAccepted, 1)
	expectAudit(t, s, accountID, models.AuditAgentAuthorized, 1)
}

// raceRevokeAgainstAccept passes the invitee's face while 15 revocations
// run: the invitation ends accepted or revoked, never both.
func raceRevokeAgainstAccept(t *testing.T, s *testenv.Stack, e enterprise) {
	repSession, accountID := certifiedAccount(t, s, e)
	agent := newPerson()
	inv := mustInvite(t, s, repSession, accountID, agent)
	share, id := inv.str("share_token"), inv.str("id")
	v := call(t, http.MethodPost, s.URL+"/v1/shares/"+share+"/face-verifications", nil, nil)
	if v.Status != http.StatusCreated {
		t.Fatalf("start verification = %d %s", v.Status, v.Raw)
	}

	rs := race(racers, func(i int) response {
		if i == 0 {
			return call(t, http.MethodPost, s.URL+"/sandbox/face/"+v.str("verification.provider_token"), map[string]string{"outcome": "pass"}, nil)
		}
		return call(t, http.MethodDelete, s.URL+"/v1/agent-invitations/"+id, nil, bearer(repSession))
	})
	if rs[0].Status != http.StatusNoContent {
		t.Errorf("sandbox pass = %d %s", rs[0].Status, rs[0].Raw)
	}
	revocations := rs[1:]
	counts := tally(t, revocations, http.StatusOK, http.StatusConflict)
	checkConflictCodes(t, revocations, http.StatusConflict, "INVITATION_NOT_PENDING")
	waitForWorkflowClosed(t, s, workflows.AgentInvitationID(id))

	final := shareStatus(t, s, share).str("status")
	agentID := personID(t, s, agent)
	var agents int64
	if agentID != "" {
		agents = countMemberships(t, s, accountID, agentID, models.RoleAgent, true)
	}
	t.Logf("the invitation ended %s; %d revocations succeeded", final, counts[http.StatusOK])
	switch final {
	case "accepted":
		if counts[http.StatusOK] != 0 || agents != 1 {
			t.Errorf("accepted with %d successful revocations and %d agent memberships, want 0 and 1", counts[http.StatusOK], agents)
		}
		expectAudit(t, s, accountID, models.AuditInvitationRevoked, 0)
		expectAudit(t, s, accountID, models.AuditInvitationAccepted, 1)
	case "revoked":
		if counts[http.StatusOK] != 1 || agents != 0 {
			t.Errorf("revoked with %d successful revocations and %d agent memberships, want 1 and 0", counts[http.StatusOK], agents)
		}
		expectAudit(t, s, accountID, models.AuditInvitationRevoked, 1)
		expectAudit(t, s, accountID, models.AuditInvitationAccepted, 0)
	default:
		t.Errorf("the invitation ended %q, want accepted or revoked", final)
	}
}

// raceRefuseCertification sends 16 refusals of one certification request.
func raceRefuseCertification(t *testing.T, s *testenv.Stack, e enterprise) {
	a := registerAsAgent(t, s, e)
	share := mustRequestCertification(t, s, a).str("share_token")

	rs := race(racers, func(int) response { return decideCertification(t, s, share, "refuse") })
	counts := tally(t, rs, http.StatusOK, http.StatusConflict)
	checkConflictCodes(t, rs, http.StatusConflict, "CERTIFICATION_REQUEST_NOT_OPEN")
	if counts[http.StatusOK] != 1 {
		t.Errorf("%d refusals succeeded, want 1", counts[http.StatusOK])
		logFailures(t, s)
	}
	if got := shareStatus(t, s, share).str("status"); got != "refused" {
		t.Errorf("the request is %q, want refused", got)
	}
	expectAudit(t, s, a.AccountID, models.AuditCertificationRefused, 1)
}

// raceAgreeAgainstRefuse sends 8 agreements and 8 refusals at once. Agrees
// that came first each get a verification; exactly one refusal ends the
// request, and its verifications expire.
func raceAgreeAgainstRefuse(t *testing.T, s *testenv.Stack, e enterprise) {
	a := registerAsAgent(t, s, e)
	created := mustRequestCertification(t, s, a)
	share := created.str("share_token")

	rs := race(racers, func(i int) response {
		if i%2 == 0 {
			return decideCertification(t, s, share, "agree")
		}
		return decideCertification(t, s, share, "refuse")
	})
	tally(t, rs, http.StatusOK, http.StatusConflict)
	refusals, verifications := 0, []string{}
	for i, r := range rs {
		switch {
		case i%2 == 1 && r.Status == http.StatusOK:
			refusals++
		case i%2 == 0 && r.Status == http.StatusOK:
			verifications = append(verifications, r.str("verification.id"))
		}
	}
	if refusals != 1 {
		t.Errorf("%d refusals succeeded, want 1", refusals)
	}
	waitForCertificationRequest(t, s, a.Session, created.str("id"), "request to be refused", hasStatus("refused"))
	for _, id := range verifications {
		testenv.Eventually(t, 20*time.Second, "verification of a refused request to expire", func() bool {
			v, err := s.App.Store.Verification(t.Context(), id)
			return err == nil && v.Status == models.VerificationExpired
		})
	}
	expectAudit(t, s, a.AccountID, models.AuditCertificationRefused, 1)
	expectAudit(t, s, a.AccountID, models.AuditAccountCertified, 0)
}

// raceCertify agrees 16 times at once and passes every verification it
// got at once: the account is certified once.
func raceCertify(t *testing.T, s *testenv.Stack, e enterprise) {
	a := registerAsAgent(t, s, e)
	created := mustRequestCertification(t, s, a)
	share := created.str("share_token")

	agreed := race(racers, func(int) response { return decideCertification(t, s, share, "agree") })
	// An agree past the request's limit of verifications is 429.
	counts := tally(t, agreed, http.StatusOK, http.StatusTooManyRequests)
	if counts[http.StatusOK] == 0 {
		t.Fatal("no agree succeeded")
	}
	var tokens []string
	for _, r := range agreed {
		if token := r.str("verification.provider_token"); token != "" {
			tokens = append(tokens, token)
		}
	}
	decided := race(len(tokens), func(i int) response {
		return call(t, http.MethodPost, s.URL+"/sandbox/face/"+tokens[i], map[string]string{"outcome": "pass"}, nil)
	})
	tally(t, decided, http.StatusNoContent)

	waitForCertificationRequest(t, s, a.Session, created.str("id"), "request to be certified", hasStatus("certified"))
	waitForWorkflowClosed(t, s, workflows.CertificationRequestID(created.str("id")))
	repID := personID(t, s, e.Rep)
	if repID == "" {
		t.Fatal("the legal representative was not stored")
	}
	if n := countMemberships(t, s, a.AccountID, repID, models.RoleLegalRepresentative, true); n != 1 {
		t.Errorf("%d legal representative memberships, want 1", n)
	}
	if n := countMemberships(t, s, a.AccountID, a.AgentID, models.RoleAgent, false); n != 1 {
		t.Errorf("%d current agent memberships of the requester, want 1", n)
	}
	expectAudit(t, s, a.AccountID, models.AuditAccountCertified, 1)
	expectAudit(t, s, a.AccountID, models.AuditLegalRepresentativeAdded, 1)
}

// raceCancelCertification sends 16 cancellations of one request.
func raceCancelCertification(t *testing.T, s *testenv.Stack, e enterprise) {
	a := registerAsAgent(t, s, e)
	id := mustRequestCertification(t, s, a).str("id")

	rs := race(racers, func(int) response {
		return call(t, http.MethodDelete, s.URL+"/v1/certification-requests/"+id, nil, bearer(a.Session))
	})
	counts := tally(t, rs, http.StatusOK, http.StatusConflict)
	checkConflictCodes(t, rs, http.StatusConflict, "CERTIFICATION_REQUEST_NOT_OPEN")
	if counts[http.StatusOK] != 1 {
		t.Errorf("%d cancellations succeeded, want 1", counts[http.StatusOK])
	}
	expectAudit(t, s, a.AccountID, models.AuditCertificationCancelled, 1)
}

// raceCancelLinkRequest sends 16 cancellations of one link request.
func raceCancelLinkRequest(t *testing.T, s *testenv.Stack, e enterprise) {
	account := newLinkableAccount(t, s, e, "race-cancel-"+e.USCC[8:14])
	requesterToken, _ := logIn(t, s, newPerson())
	id := mustRequestLink(t, s, requesterToken, account)

	rs := race(racers, func(int) response {
		return call(t, http.MethodDelete, s.URL+"/v1/account-link-requests/"+id, nil, bearer(requesterToken))
	})
	counts := tally(t, rs, http.StatusOK, http.StatusConflict)
	checkConflictCodes(t, rs, http.StatusConflict, "LINK_REQUEST_NOT_PENDING")
	if counts[http.StatusOK] != 1 {
		t.Errorf("%d cancellations succeeded, want 1", counts[http.StatusOK])
	}
	expectAudit(t, s, account.ID, models.AuditLinkCancelled, 1)
}

// raceApproveAgainstReject sends 8 approvals and 8 rejections at once:
// exactly one decision wins.
func raceApproveAgainstReject(t *testing.T, s *testenv.Stack, e enterprise) {
	account := newLinkableAccount(t, s, e, "race-decide-"+e.USCC[8:14])
	requesterToken, requesterID := logIn(t, s, newPerson())
	id := mustRequestLink(t, s, requesterToken, account)
	applicant := account.applicantSession(t, s).str("token")

	rs := race(racers, func(i int) response {
		if i%2 == 0 {
			return decideLink(t, s, applicant, id, "approve")
		}
		return decideLink(t, s, applicant, id, "reject")
	})
	counts := tally(t, rs, http.StatusOK, http.StatusConflict)
	checkConflictCodes(t, rs, http.StatusConflict, "LINK_REQUEST_NOT_PENDING")
	if counts[http.StatusOK] != 1 {
		t.Fatalf("%d decisions succeeded, want 1", counts[http.StatusOK])
	}
	final := linkRequest(t, s, requesterToken, id).str("status")
	agents := countAgentRows(t, s, account.ID, requesterID)
	switch final {
	case "approved":
		if agents != 1 {
			t.Errorf("approved with %d agent memberships, want 1", agents)
		}
		expectAudit(t, s, account.ID, models.AuditLinkApproved, 1)
		expectAudit(t, s, account.ID, models.AuditLinkRejected, 0)
	case "rejected":
		if agents != 0 {
			t.Errorf("rejected with %d agent memberships, want 0", agents)
		}
		expectAudit(t, s, account.ID, models.AuditLinkRejected, 1)
		expectAudit(t, s, account.ID, models.AuditLinkApproved, 0)
	default:
		t.Errorf("the request ended %q, want approved or rejected", final)
	}
}

// raceRemoveAgent sends 16 removals of one agent. The first ends the
// authorisation and the agent's enterprise session; the agent is then no
// longer one, so the others get 404.
func raceRemoveAgent(t *testing.T, s *testenv.Stack, e enterprise) {
	account := newLinkableAccount(t, s, e, "race-remove-"+e.USCC[8:14])
	agentToken, agentID := logIn(t, s, newPerson())
	id := mustRequestLink(t, s, agentToken, account)
	if r := decideLink(t, s, account.RepSession, id, "approve"); r.Status != http.StatusOK {
		t.Fatalf("approve = %d %s", r.Status, r.Raw)
	}
	agentSession := mustChooseEnterprise(t, s, agentToken, account.ID)

	rs := race(racers, func(int) response {
		return call(t, http.MethodDelete, s.URL+"/v1/enterprise-accounts/"+account.ID+"/agents/"+agentID, nil, bearer(account.RepSession))
	})
	counts := tally(t, rs, http.StatusNoContent, http.StatusNotFound)
	checkConflictCodes(t, rs, http.StatusNotFound, "NOT_FOUND")
	if counts[http.StatusNoContent] != 1 {
		t.Errorf("%d removals succeeded, want 1", counts[http.StatusNoContent])
	}
	if n := countAgentRows(t, s, account.ID, agentID); n != 0 {
		t.Errorf("%d current agent memberships after removal, want 0", n)
	}
	if r := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(agentSession)); r.Status != http.StatusUnauthorized {
		t.Errorf("the removed agent's enterprise session = %d, want 401", r.Status)
	}
	expectAudit(t, s, account.ID, models.AuditAgentRemoved, 1)
}
