package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// callbackBody is what the sandbox provider pushes for providerToken.
func callbackBody(providerToken string) string {
	return fmt.Sprintf(`{"provider_token":%q,"event":"verification.completed"}`, providerToken)
}

// postCallback sends a callback with the given raw header values.
func postCallback(t *testing.T, s *testenv.Stack, body, timestamp, signature string) response {
	t.Helper()
	return call(t, http.MethodPost, s.URL+"/v1/callbacks/face-verification", body, map[string]string{
		face.HeaderTimestamp: timestamp,
		face.HeaderSignature: signature,
	})
}

// forgedCallbacks returns callbacks for body that the API must reject with
// 401: a wrong secret, stale and future timestamps, timestamps that are not
// Unix seconds, and signatures that are missing, not hex, too long or made
// for another body or timestamp.
func forgedCallbacks(body, secret string) map[string][2]string {
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	sign := func(ts, body string) string { return face.Sign([]byte(secret), ts, []byte(body)) }
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	forged := map[string][2]string{
		"another secret":        {ts, face.Sign([]byte("not-the-secret-not-the-secret-xx"), ts, []byte(body))},
		"301 s old":             {at(-301 * time.Second), sign(at(-301*time.Second), body)},
		"301 s ahead":           {at(301 * time.Second), sign(at(301*time.Second), body)},
		"a day old":             {at(-24 * time.Hour), sign(at(-24*time.Hour), body)},
		"timestamp zero":        {"0", sign("0", body)},
		"timestamp negative":    {"-1", sign("-1", body)},
		"timestamp overflowing": {"99999999999999999999", sign("99999999999999999999", body)},
		"timestamp int64 max":   {"9223372036854775807", sign("9223372036854775807", body)},
		"timestamp int64 min":   {"-9223372036854775808", sign("-9223372036854775808", body)},
		"another body":          {ts, sign(ts, body+" ")},
		"another timestamp":     {ts, sign(at(-time.Second), body)},
		"no signature":          {ts, ""},
		"signature not hex":     {ts, "zz" + sign(ts, body)[2:]},
		"signature truncated":   {ts, sign(ts, body)[:32]},
		"signature doubled":     {ts, sign(ts, body) + sign(ts, body)},
		"signature 20 KiB":      {ts, strings.Repeat("ab", 10<<10)},
		"timestamp 20 KiB":      {strings.Repeat("1", 20<<10), sign(ts, body)},
	}
	for _, bad := range []string{"", "abc", "1e9", "1.5", " " + ts, ts + " ", "0x10", ts + "ms", "٣٤٥"} {
		forged["timestamp "+strconv.Quote(bad)] = [2]string{bad, sign(bad, body)}
	}
	return forged
}

// checkForgedRejected sends every forged callback for body and expects 401.
func checkForgedRejected(t *testing.T, s *testenv.Stack, body string) {
	t.Helper()
	for name, h := range forgedCallbacks(body, s.Config.FaceCallbackSecret) {
		r := postCallback(t, s, body, h[0], h[1])
		if r.Status != http.StatusUnauthorized || r.errorCode() != "INVALID_SIGNATURE" {
			t.Errorf("callback with %s = %d %s, want 401 INVALID_SIGNATURE", name, r.Status, r.Raw)
		}
	}
}

// deliver sends the valid signed callback for body n times at once and
// expects 200 for each.
func deliver(t *testing.T, s *testenv.Stack, body string, n int) {
	t.Helper()
	rs := race(n, func(int) response { return signedCallback(t, s, body, time.Now(), s.Config.FaceCallbackSecret) })
	for i, r := range rs {
		if r.Status != http.StatusOK || r.Body["received"] != true {
			t.Errorf("valid callback %d = %d %s, want 200 received", i, r.Status, r.Raw)
		}
	}
}

// TestFaceCallback_FlowsOtherThanLogin checks callbacks for the face
// verifications of agent invitations and certification requests, and for
// verifications and flows that have ended. Two stacks share one database
// and task queue: people log in through s, whose sandbox pushes work, and
// the flows under test start through quiet, whose public URL leads
// nowhere, so that only the test's own callbacks wake them.
func TestFaceCallback_FlowsOtherThanLogin(t *testing.T) {
	inviting, certifying, revoking, failing := newEnterprise("广州市回调邀请测试有限公司"), newEnterprise("广州市回调认证测试有限公司"),
		newEnterprise("广州市回调撤销测试有限公司"), newEnterprise("广州市回调失败测试有限公司")
	s := newEnterpriseStack(t, models.Postgres, inviting, certifying, revoking, failing)
	quiet := testenv.NewStack(t, dev, models.Postgres, s.Sharing(), func(c *config.Config) { c.PublicURL = "http://127.0.0.1:1" })

	t.Run("invitation", func(t *testing.T) { callbacksForInvitation(t, s, quiet, inviting) })
	t.Run("certification", func(t *testing.T) { callbacksForCertification(t, s, quiet, certifying) })
	t.Run("revoked invitation", func(t *testing.T) { callbackAfterRevocation(t, s, quiet, revoking) })
	t.Run("failed verification", func(t *testing.T) { duplicateFailureCountsOnce(t, s, quiet, failing) })
	t.Run("finished face login", func(t *testing.T) { callbackAfterLogin(t, quiet) })
	t.Run("oversized headers", func(t *testing.T) { oversizedCallbackHeaders(t, s) })
}

func callbacksForInvitation(t *testing.T, s, quiet *testenv.Stack, e enterprise) {
	repSession, accountID := certifiedAccount(t, s, e)
	invitee := newPerson()
	inv := mustInvite(t, quiet, repSession, accountID, invitee)
	share, id := inv.str("share_token"), inv.str("id")
	v := call(t, http.MethodPost, s.URL+"/v1/shares/"+share+"/face-verifications", nil, nil)
	if v.Status != http.StatusCreated {
		t.Fatalf("start verification = %d %s", v.Status, v.Raw)
	}
	token := v.str("verification.provider_token")
	decide(t, s, token, map[string]string{"outcome": "pass"})
	body := callbackBody(token)

	checkForgedRejected(t, s, body)
	if got := shareStatus(t, s, share).str("status"); got != "pending" {
		t.Fatalf("after forged callbacks the invitation is %q, want pending", got)
	}
	if id := personID(t, s, invitee); id != "" {
		t.Fatal("forged callbacks stored the invitee")
	}

	deliver(t, s, body, 4)
	waitForShareStatus(t, s, share, "accepted")
	waitForWorkflowClosed(t, s, workflows.AgentInvitationID(id))
	deliver(t, s, body, 2)

	agentID := personID(t, s, invitee)
	if n := countMemberships(t, s, accountID, agentID, models.RoleAgent, true); n != 1 {
		t.Errorf("%d agent memberships, want 1", n)
	}
	expectAudit(t, s, accountID, models.AuditInvitationAccepted, 1)
	expectAudit(t, s, accountID, models.AuditAgentAuthorized, 1)
	stale := time.Now().Add(-time.Hour)
	if r := signedCallback(t, s, body, stale, s.Config.FaceCallbackSecret); r.Status != http.StatusUnauthorized {
		t.Errorf("a replay an hour old = %d, want 401", r.Status)
	}
}

func callbacksForCertification(t *testing.T, s, quiet *testenv.Stack, e enterprise) {
	a := registerAsAgent(t, s, e)
	created := mustRequestCertification(t, quiet, a)
	agreed := decideCertification(t, s, created.str("share_token"), "agree")
	if agreed.Status != http.StatusOK {
		t.Fatalf("agree = %d %s", agreed.Status, agreed.Raw)
	}
	token := agreed.str("verification.provider_token")
	decide(t, s, token, map[string]string{"outcome": "pass"})
	body := callbackBody(token)

	checkForgedRejected(t, s, body)
	if got := getCertificationRequest(t, s, a.Session, created.str("id")).str("status"); got != "pending_verification" {
		t.Fatalf("after forged callbacks the request is %q, want pending_verification", got)
	}

	deliver(t, s, body, 4)
	waitForCertificationRequest(t, s, a.Session, created.str("id"), "request to be certified", hasStatus("certified"))
	waitForWorkflowClosed(t, s, workflows.CertificationRequestID(created.str("id")))
	deliver(t, s, body, 2)

	expectAudit(t, s, a.AccountID, models.AuditAccountCertified, 1)
	expectAudit(t, s, a.AccountID, models.AuditLegalRepresentativeAdded, 1)
	if n := countMemberships(t, s, a.AccountID, personID(t, s, e.Rep), models.RoleLegalRepresentative, true); n != 1 {
		t.Errorf("%d legal representative memberships, want 1", n)
	}
}

// callbackAfterRevocation passes the face of an invitation the legal
// representative has revoked: the callback is acknowledged and changes nothing.
func callbackAfterRevocation(t *testing.T, s, quiet *testenv.Stack, e enterprise) {
	repSession, accountID := certifiedAccount(t, s, e)
	invitee := newPerson()
	inv := mustInvite(t, quiet, repSession, accountID, invitee)
	v := call(t, http.MethodPost, s.URL+"/v1/shares/"+inv.str("share_token")+"/face-verifications", nil, nil)
	if v.Status != http.StatusCreated {
		t.Fatalf("start verification = %d %s", v.Status, v.Raw)
	}
	if r := call(t, http.MethodDelete, s.URL+"/v1/agent-invitations/"+inv.str("id"), nil, bearer(repSession)); r.Status != http.StatusOK {
		t.Fatalf("revoke = %d %s", r.Status, r.Raw)
	}
	waitForWorkflowClosed(t, s, workflows.AgentInvitationID(inv.str("id")))
	token := v.str("verification.provider_token")
	// The revocation expired the verification, so the sandbox may refuse
	// the outcome; the callback must be harmless either way.
	call(t, http.MethodPost, s.URL+"/sandbox/face/"+token, map[string]string{"outcome": "pass"}, nil)

	deliver(t, s, callbackBody(token), 3)
	if got := shareStatus(t, s, inv.str("share_token")).str("status"); got != "revoked" {
		t.Errorf("the invitation is %q, want revoked", got)
	}
	if id := personID(t, s, invitee); id != "" && countMemberships(t, s, accountID, id, models.RoleAgent, true) != 0 {
		t.Error("a callback after the revocation made the invitee an agent")
	}
	expectAudit(t, s, accountID, models.AuditAgentAuthorized, 0)
}

// duplicateFailureCountsOnce delivers the callback of a failed
// verification four times at once, then fails a second verification: the
// invitation counts two failures, not five, and stays pending.
func duplicateFailureCountsOnce(t *testing.T, s, quiet *testenv.Stack, e enterprise) {
	repSession, accountID := certifiedAccount(t, s, e)
	inv := mustInvite(t, quiet, repSession, accountID, newPerson())
	share := inv.str("share_token")
	failOnce := func(duplicates int) {
		v := call(t, http.MethodPost, s.URL+"/v1/shares/"+share+"/face-verifications", nil, nil)
		if v.Status != http.StatusCreated {
			t.Fatalf("start verification = %d %s", v.Status, v.Raw)
		}
		token := v.str("verification.provider_token")
		decide(t, s, token, map[string]string{"outcome": "fail"})
		deliver(t, s, callbackBody(token), duplicates)
		testenv.Eventually(t, 20*time.Second, "verification to fail", func() bool {
			stored, err := s.App.Store.Verification(t.Context(), v.str("verification.id"))
			return err == nil && stored.Status == models.VerificationFailed
		})
	}
	failOnce(4)
	failOnce(1)
	testenv.Eventually(t, 20*time.Second, "two failures to be counted", func() bool {
		stored, err := s.App.Store.Invitation(t.Context(), inv.str("id"))
		return err == nil && stored.FailedVerifications >= 2
	})
	stored, err := s.App.Store.Invitation(t.Context(), inv.str("id"))
	if err != nil {
		t.Fatal(err)
	}
	if stored.FailedVerifications != 2 || stored.Status != models.InvitationPending {
		t.Errorf("invitation is %s with %d failures, want pending with 2", stored.Status, stored.FailedVerifications)
	}
}

// callbackAfterLogin replays the callback of a login that has succeeded.
// The login starts on a stack whose sandbox pushes lead nowhere.
func callbackAfterLogin(t *testing.T, s *testenv.Stack) {
	login := startFaceLogin(t, s, newPerson())
	decide(t, s, login.ProviderToken, map[string]string{"outcome": "pass"})
	body := callbackBody(login.ProviderToken)
	deliver(t, s, body, 1)
	if done := waitForLogin(t, s, login); done.str("status") != "succeeded" {
		t.Fatalf("login = %s", done.Raw)
	}
	waitForWorkflowClosed(t, s, workflows.FaceLoginID(login.ID))
	var before int64
	s.App.Store.DB().Model(&models.Session{}).Count(&before)
	deliver(t, s, body, 3)
	var after int64
	s.App.Store.DB().Model(&models.Session{}).Count(&after)
	if after != before {
		t.Errorf("replayed callbacks changed the number of sessions from %d to %d", before, after)
	}
}

// oversizedCallbackHeaders sends headers past the HTTP server's 32 KiB
// limit, so net/http responds 431 before the API sees the request.
func oversizedCallbackHeaders(t *testing.T, s *testenv.Stack) {
	body := callbackBody("unknown-token")
	r := postCallback(t, s, body, strconv.FormatInt(time.Now().Unix(), 10), strings.Repeat("ab", 40<<10))
	if r.Status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("callback with an 80 KiB signature = %d, want 431", r.Status)
	}
}
