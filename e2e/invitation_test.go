package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// certifiedAccount registers e with its legal representative and returns
// the representative's enterprise session and the account id.
func certifiedAccount(t *testing.T, s *testenv.Stack, e enterprise) (repSession, accountID string) {
	t.Helper()
	token, _ := logIn(t, s, e.Rep)
	accountID = mustAddEnterprise(t, s, token, e)
	return mustChooseEnterprise(t, s, token, accountID), accountID
}

func invite(t *testing.T, s *testenv.Stack, session, accountID string, p person) response {
	t.Helper()
	return call(t, http.MethodPost, s.URL+"/v1/enterprise-accounts/"+accountID+"/agent-invitations",
		map[string]string{"name": p.Name, "id_number": p.IDNumber}, bearer(session))
}

func mustInvite(t *testing.T, s *testenv.Stack, session, accountID string, p person) response {
	t.Helper()
	r := invite(t, s, session, accountID, p)
	if r.Status != http.StatusCreated {
		t.Fatalf("invite: status %d: %s", r.Status, r.Raw)
	}
	return r
}

// verifyThroughShare starts a verification on the share link, plays the
// given decision in the sandbox and waits until the flow has looked at it.
func verifyThroughShare(t *testing.T, s *testenv.Stack, shareToken string, decision map[string]string) {
	t.Helper()
	r := call(t, http.MethodPost, s.URL+"/v1/shares/"+shareToken+"/face-verifications", nil, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("start verification: status %d: %s", r.Status, r.Raw)
	}
	verificationID := r.str("verification.id")
	decide(t, s, r.str("verification.provider_token"), decision)
	testenv.Eventually(t, 20*time.Second, "verification to be settled", func() bool {
		v, err := s.App.Store.Verification(t.Context(), verificationID)
		return err == nil && v.Status != models.VerificationPending
	})
}

func shareStatus(t *testing.T, s *testenv.Stack, token string) response {
	t.Helper()
	return call(t, http.MethodGet, s.URL+"/v1/shares/"+token, nil, nil)
}

func waitForShareStatus(t *testing.T, s *testenv.Stack, token, want string) response {
	t.Helper()
	var r response
	testenv.Eventually(t, 20*time.Second, "share status "+want, func() bool {
		r = shareStatus(t, s, token)
		return r.str("status") == want
	})
	return r
}

func TestAgentInvitation_AcceptanceFlow(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnterprise("广州市邀请测试科技有限公司")
			s := newEnterpriseStack(t, dialect, e)
			repSession, accountID := certifiedAccount(t, s, e)
			agent := newPerson()

			created := mustInvite(t, s, repSession, accountID, agent)
			share := created.str("share_token")
			if created.str("status") != "pending" || !strings.HasSuffix(created.str("share_url"), share) {
				t.Fatalf("invitation = %s", created.Raw)
			}
			if strings.Contains(string(created.Raw), agent.IDNumber) || strings.Contains(string(created.Raw), agent.Name) {
				t.Errorf("the invitation response shows the invitee unmasked")
			}
			if self := invite(t, s, repSession, accountID, e.Rep); self.Status != http.StatusConflict || self.errorCode() != "ALREADY_MEMBER" {
				t.Errorf("the legal representative inviting themselves = %d %s, want 409 ALREADY_MEMBER", self.Status, self.errorCode())
			}
			if dup := invite(t, s, repSession, accountID, agent); dup.Status != http.StatusConflict || dup.errorCode() != "INVITATION_PENDING" {
				t.Errorf("duplicate invitation = %d %s, want 409 INVITATION_PENDING", dup.Status, dup.errorCode())
			}

			preview := shareStatus(t, s, share)
			if preview.str("kind") != "agent_invitation" || preview.str("enterprise_name") != e.Name || preview.str("invitee_name_masked") == "" {
				t.Fatalf("preview = %s", preview.Raw)
			}
			if strings.Contains(string(preview.Raw), agent.Name) || strings.Contains(string(preview.Raw), e.Rep.Name) {
				t.Errorf("the preview shows a name unmasked: %s", preview.Raw)
			}

			someoneElse := newPerson()
			verifyThroughShare(t, s, share, map[string]string{"outcome": "pass", "verified_id_number": someoneElse.IDNumber, "verified_name": someoneElse.Name})
			if got := shareStatus(t, s, share).str("status"); got != "pending" {
				t.Fatalf("after someone else's face the invitation is %q, want pending", got)
			}

			verifyThroughShare(t, s, share, map[string]string{"outcome": "pass"})
			accepted := waitForShareStatus(t, s, share, "accepted")
			if len(accepted.Body) != 2 {
				t.Errorf("an accepted invitation's preview shows more than kind and status: %s", accepted.Raw)
			}

			agentToken, agentID := logIn(t, s, agent)
			me := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(agentToken))
			if !strings.Contains(string(me.Raw), `"agent"`) || !strings.Contains(string(me.Raw), accountID) {
				t.Fatalf("the agent's /v1/me lacks the account with role agent: %s", me.Raw)
			}
			agentSession := mustChooseEnterprise(t, s, agentToken, accountID)
			if r := invite(t, s, agentSession, accountID, newPerson()); r.Status != http.StatusForbidden {
				t.Errorf("an agent inviting = %d, want 403", r.Status)
			}
			agents := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+accountID+"/agents", nil, bearer(repSession))
			if !strings.Contains(string(agents.Raw), agentID) || !strings.Contains(string(agents.Raw), `"via":"invitation"`) {
				t.Errorf("agents = %s", agents.Raw)
			}
			if again := invite(t, s, repSession, accountID, agent); again.Status != http.StatusConflict || again.errorCode() != "ALREADY_AGENT" {
				t.Errorf("inviting a current agent = %d %s, want 409 ALREADY_AGENT", again.Status, again.errorCode())
			}

			removed := call(t, http.MethodDelete, s.URL+"/v1/enterprise-accounts/"+accountID+"/agents/"+agentID, nil, bearer(repSession))
			if removed.Status != http.StatusNoContent {
				t.Fatalf("remove agent = %d %s", removed.Status, removed.Raw)
			}
			if r := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(agentSession)); r.Status != http.StatusUnauthorized {
				t.Errorf("the removed agent's enterprise session still works: %d", r.Status)
			}
			if r := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(agentToken)); r.Status != http.StatusOK {
				t.Errorf("the removed agent's person session stopped working: %d", r.Status)
			}
		})
	}
}

func TestAgentInvitation_RevokedCannotBeUsed(t *testing.T) {
	e := newEnterprise("广州市撤销测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	repSession, accountID := certifiedAccount(t, s, e)
	created := mustInvite(t, s, repSession, accountID, newPerson())

	r := call(t, http.MethodDelete, s.URL+"/v1/agent-invitations/"+created.str("id"), nil, bearer(repSession))
	if r.Status != http.StatusOK || r.str("status") != "revoked" {
		t.Fatalf("revoke = %d %s", r.Status, r.Raw)
	}
	if again := call(t, http.MethodDelete, s.URL+"/v1/agent-invitations/"+created.str("id"), nil, bearer(repSession)); again.Status != http.StatusConflict || again.errorCode() != "INVITATION_NOT_PENDING" {
		t.Errorf("second revoke = %d %s, want 409 INVITATION_NOT_PENDING", again.Status, again.errorCode())
	}
	use := call(t, http.MethodPost, s.URL+"/v1/shares/"+created.str("share_token")+"/face-verifications", nil, nil)
	if use.Status != http.StatusConflict {
		t.Errorf("verification on a revoked invitation = %d, want 409", use.Status)
	}
	if preview := shareStatus(t, s, created.str("share_token")); preview.str("status") != "revoked" || len(preview.Body) != 2 {
		t.Errorf("preview of a revoked invitation = %s", preview.Raw)
	}
	list := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+accountID+"/agent-invitations?status=revoked", nil, bearer(repSession))
	if !strings.Contains(string(list.Raw), created.str("id")) {
		t.Errorf("list of revoked invitations = %s", list.Raw)
	}
}

func TestAgentInvitation_ExpiresWithoutPersonalData(t *testing.T) {
	e := newEnterprise("广州市过期测试有限公司")
	s := newEnterpriseStack(t, models.Postgres, e)
	s = restack(t, s, e, func(c *config.Config) { c.InvitationTTL = 3 * time.Second })
	repSession, accountID := certifiedAccount(t, s, e)
	agent := newPerson()
	created := mustInvite(t, s, repSession, accountID, agent)

	expired := waitForShareStatus(t, s, created.str("share_token"), "expired")
	if len(expired.Body) != 2 || strings.Contains(string(expired.Raw), "masked") {
		t.Errorf("expired preview = %s, want kind and status only", expired.Raw)
	}
}

// restack replaces s by a stack with the same registry and a changed configuration.
func restack(t *testing.T, s *testenv.Stack, e enterprise, configure func(*config.Config)) *testenv.Stack {
	t.Helper()
	registryFile := s.Config.RegistryFile
	return testenv.NewStack(t, dev, s.App.Store.Dialect(), func(c *config.Config) {
		c.RegistryFile = registryFile
		configure(c)
	})
}

func TestAgentInvitation_ThreeFailuresEndIt(t *testing.T) {
	e := newEnterprise("广州市失败测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	repSession, accountID := certifiedAccount(t, s, e)
	created := mustInvite(t, s, repSession, accountID, newPerson())
	share := created.str("share_token")
	for i := 0; i < 3; i++ {
		verifyThroughShare(t, s, share, map[string]string{"outcome": "fail"})
	}
	waitForShareStatus(t, s, share, "failed")
}

func TestAgentInvitation_ForbiddenToOthers(t *testing.T) {
	e1, e2 := newEnterprise("广州市甲有限公司"), newEnterprise("广州市乙有限公司")
	s := newEnterpriseStack(t, models.SQLite, e1, e2)
	rep1, account1 := certifiedAccount(t, s, e1)
	rep2, _ := certifiedAccount(t, s, e2)
	created := mustInvite(t, s, rep1, account1, newPerson())

	if r := invite(t, s, rep2, account1, newPerson()); r.Status != http.StatusNotFound {
		t.Errorf("another enterprise's legal representative inviting = %d, want 404", r.Status)
	}
	if r := call(t, http.MethodDelete, s.URL+"/v1/agent-invitations/"+created.str("id"), nil, bearer(rep2)); r.Status != http.StatusNotFound {
		t.Errorf("another enterprise's legal representative revoking = %d, want 404", r.Status)
	}
	if r := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+account1+"/agents", nil, bearer(rep2)); r.Status != http.StatusNotFound {
		t.Errorf("another enterprise listing agents = %d, want 404", r.Status)
	}
	person, _ := logIn(t, s, newPerson())
	if r := invite(t, s, person, account1, newPerson()); r.Status != http.StatusForbidden {
		t.Errorf("a person session inviting = %d, want 403", r.Status)
	}

	repPerson, _ := logIn(t, s, e1.Rep)
	if r := setCredentials(t, s, repPerson, account1, "jia-faren", "一二三四五六七八九十abc"); r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		t.Fatalf("set credentials = %d %s", r.Status, r.Raw)
	}
	password := passwordLogin(t, s, "jia-faren", "一二三四五六七八九十abc")
	if r := invite(t, s, password.str("token"), account1, newPerson()); r.Status != http.StatusForbidden || r.errorCode() != "FACE_LOGIN_REQUIRED" {
		t.Errorf("a password-login session inviting = %d %s, want 403 FACE_LOGIN_REQUIRED", r.Status, r.errorCode())
	}
}

func TestAgentInvitation_ConcurrentRevocationsGiveOneOutcome(t *testing.T) {
	e := newEnterprise("广州市并发测试有限公司")
	s := newEnterpriseStack(t, models.Postgres, e)
	repSession, accountID := certifiedAccount(t, s, e)
	created := mustInvite(t, s, repSession, accountID, newPerson())

	statuses := make([]int, 16)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = call(t, http.MethodDelete, s.URL+"/v1/agent-invitations/"+created.str("id"), nil, bearer(repSession)).Status
		}()
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
		t.Errorf("%d revocations succeeded and %d conflicted (%v), want 1 and 15", ok, conflicts, statuses)
		logFailures(t, s)
	}
	var events int64
	s.App.Store.DB().Model(&models.AuditEvent{}).Where("action = ?", models.AuditInvitationRevoked).Count(&events)
	if events != 1 {
		t.Errorf("%d revocation audit events, want 1", events)
	}
}

// logFailures prints the server errors the stack logged, to explain a failed test.
func logFailures(t *testing.T, s *testenv.Stack) {
	t.Helper()
	for _, line := range strings.Split(s.Logs(), "\n") {
		if strings.Contains(line, `"level":"error"`) {
			t.Log(line)
		}
	}
}

func TestAgentInvitation_HistoryReplays(t *testing.T) {
	e := newEnterprise("广州市重放测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	s = restack(t, s, e, recordingKey)
	repSession, accountID := certifiedAccount(t, s, e)
	created := mustInvite(t, s, repSession, accountID, newPerson())
	verifyThroughShare(t, s, created.str("share_token"), map[string]string{"outcome": "fail"})
	verifyThroughShare(t, s, created.str("share_token"), map[string]string{"outcome": "pass"})
	waitForShareStatus(t, s, created.str("share_token"), "accepted")
	replayAndRecord(t, s, workflows.AgentInvitationID(created.str("id")), "agent_invitation_accepted.json")
}
