package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// agentAccount is an uncertified account registered by an agent, with the
// agent's person session and enterprise session for it.
type agentAccount struct {
	Agent         person
	AgentID       string
	PersonSession string
	Session       string
	AccountID     string
}

// registerAsAgent logs a new person in, registers e for them (uncertified,
// because they are not its legal representative) and chooses it.
func registerAsAgent(t *testing.T, s *testenv.Stack, e enterprise) agentAccount {
	t.Helper()
	a := agentAccount{Agent: newPerson()}
	a.PersonSession, a.AgentID = logIn(t, s, a.Agent)
	a.AccountID = mustAddEnterprise(t, s, a.PersonSession, e)
	a.Session = mustChooseEnterprise(t, s, a.PersonSession, a.AccountID)
	return a
}

// requestCertification calls POST /v1/enterprise-accounts/{id}/certification-requests.
func requestCertification(t *testing.T, s *testenv.Stack, session, accountID string) response {
	t.Helper()
	return call(t, http.MethodPost, s.URL+"/v1/enterprise-accounts/"+accountID+"/certification-requests", nil, bearer(session))
}

func mustRequestCertification(t *testing.T, s *testenv.Stack, a agentAccount) response {
	t.Helper()
	r := requestCertification(t, s, a.Session, a.AccountID)
	if r.Status != http.StatusCreated {
		t.Fatalf("request certification: status %d: %s", r.Status, r.Raw)
	}
	return r
}

// decideCertification calls POST /v1/shares/{token}/decision.
func decideCertification(t *testing.T, s *testenv.Stack, shareToken, decision string) response {
	t.Helper()
	return call(t, http.MethodPost, s.URL+"/v1/shares/"+shareToken+"/decision", map[string]string{"decision": decision}, nil)
}

// agreeAndVerify agrees on the share link, plays the legal representative's
// face verification in the sandbox with sandboxDecision and waits until the
// flow has looked at it. It returns the verification id.
func agreeAndVerify(t *testing.T, s *testenv.Stack, shareToken string, sandboxDecision map[string]string) string {
	t.Helper()
	r := decideCertification(t, s, shareToken, "agree")
	if r.Status != http.StatusOK || r.str("status") != "pending_verification" {
		t.Fatalf("agree: status %d: %s", r.Status, r.Raw)
	}
	verificationID := r.str("verification.id")
	decide(t, s, r.str("verification.provider_token"), sandboxDecision)
	testenv.Eventually(t, 20*time.Second, "verification to be settled", func() bool {
		v, err := s.App.Store.Verification(t.Context(), verificationID)
		return err == nil && v.Status != models.VerificationPending
	})
	return verificationID
}

func getCertificationRequest(t *testing.T, s *testenv.Stack, session, id string) response {
	t.Helper()
	return call(t, http.MethodGet, s.URL+"/v1/certification-requests/"+id, nil, bearer(session))
}

// waitForCertificationRequest polls the request until check accepts it.
func waitForCertificationRequest(t *testing.T, s *testenv.Stack, session, id, what string, check func(response) bool) response {
	t.Helper()
	var r response
	testenv.Eventually(t, 20*time.Second, what, func() bool {
		r = getCertificationRequest(t, s, session, id)
		return r.Status == http.StatusOK && check(r)
	})
	return r
}

func hasStatus(status string) func(response) bool {
	return func(r response) bool { return r.str("status") == status }
}

func authorization(t *testing.T, s *testenv.Stack, session string) response {
	t.Helper()
	return call(t, http.MethodGet, s.URL+"/v1/session/authorization?requires=certified", nil, bearer(session))
}

func TestCertificationRequest_AcceptanceFlow(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnterprise("广州市认证流程测试有限公司")
			s := newEnterpriseStack(t, dialect, e)
			a := registerAsAgent(t, s, e)

			refusedReq := mustRequestCertification(t, s, a)
			share := refusedReq.str("share_token")
			if refusedReq.str("status") != "pending_consent" || !strings.HasPrefix(share, "crq_") ||
				refusedReq.str("share_url") != s.Config.PublicURL+"/v1/shares/"+share {
				t.Fatalf("request = %s", refusedReq.Raw)
			}
			if got, want := refusedReq.str("legal_representative.name_masked"), identity.MaskName(e.Rep.Name); got != want {
				t.Errorf("legal_representative.name_masked = %q, want %q", got, want)
			}
			if dup := requestCertification(t, s, a.Session, a.AccountID); dup.Status != http.StatusConflict || dup.errorCode() != "CERTIFICATION_REQUEST_OPEN" {
				t.Errorf("duplicate request = %d %s, want 409 CERTIFICATION_REQUEST_OPEN", dup.Status, dup.errorCode())
			}

			preview := shareStatus(t, s, share)
			if preview.str("kind") != "certification_request" || preview.str("status") != "pending_consent" ||
				preview.str("enterprise_name") != e.Name || preview.str("expires_at") == "" ||
				preview.str("requester_name_masked") != identity.MaskName(a.Agent.Name) {
				t.Fatalf("preview = %s", preview.Raw)
			}
			if strings.Contains(string(preview.Raw), a.Agent.Name) || strings.Contains(string(preview.Raw), e.Rep.Name) {
				t.Errorf("the preview shows a name unmasked: %s", preview.Raw)
			}

			if r := decideCertification(t, s, share, "refuse"); r.Status != http.StatusOK || r.str("status") != "refused" {
				t.Fatalf("refuse = %d %s", r.Status, r.Raw)
			}
			if refused := shareStatus(t, s, share); refused.str("status") != "refused" || len(refused.Body) != 2 {
				t.Errorf("refused preview = %s, want kind and status only", refused.Raw)
			}
			if r := decideCertification(t, s, share, "agree"); r.Status != http.StatusConflict || r.errorCode() != "CERTIFICATION_REQUEST_NOT_OPEN" {
				t.Errorf("agree after refusal = %d %s, want 409 CERTIFICATION_REQUEST_NOT_OPEN", r.Status, r.errorCode())
			}

			created := mustRequestCertification(t, s, a)
			id, share := created.str("id"), created.str("share_token")
			agentFace := map[string]string{"outcome": "pass", "verified_name": a.Agent.Name, "verified_id_number": a.Agent.IDNumber}
			mismatch := agreeAndVerify(t, s, share, agentFace)
			if v, err := s.App.Store.Verification(t.Context(), mismatch); err != nil || v.FailureCode != "IDENTITY_MISMATCH" {
				t.Errorf("the agent's own face: verification %+v (%v), want IDENTITY_MISMATCH", v, err)
			}
			waitForCertificationRequest(t, s, a.Session, id, "one failed verification", func(r response) bool {
				return r.Body["failed_verifications"] == 1.0
			})
			if got := getCertificationRequest(t, s, a.Session, id).str("status"); got != "pending_verification" {
				t.Errorf("after the agent's face the request is %q, want pending_verification", got)
			}
			if r := authorization(t, s, a.Session); r.Status != http.StatusForbidden || r.errorCode() != "ACCOUNT_NOT_CERTIFIED" {
				t.Errorf("after the agent's own face: authorization = %d %s, want 403 ACCOUNT_NOT_CERTIFIED", r.Status, r.errorCode())
			}

			passed := agreeAndVerify(t, s, share, map[string]string{"outcome": "pass"})
			if passed == mismatch {
				t.Error("the second agree returned the first verification")
			}
			certified := waitForCertificationRequest(t, s, a.Session, id, "request to be certified", hasStatus("certified"))
			if certified.str("ended_at") == "" {
				t.Errorf("certified request has no ended_at: %s", certified.Raw)
			}
			if r := authorization(t, s, a.Session); r.Status != http.StatusOK || r.Body["allowed"] != true {
				t.Errorf("the agent's certified-business check = %d %s, want 200 allowed", r.Status, r.Raw)
			}

			repToken, repID := logIn(t, s, e.Rep)
			me := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(repToken))
			if got := rolesOfAccount(me, a.AccountID); got != "legal_representative" {
				t.Errorf("legal representative's roles in the account = %q, want legal_representative: %s", got, me.Raw)
			}
			agents := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+a.AccountID+"/agents", nil, bearer(a.Session))
			if !strings.Contains(string(agents.Raw), `"person_id":"`+a.AgentID+`"`) || !strings.Contains(string(agents.Raw), `"via":"certification"`) ||
				!strings.Contains(string(agents.Raw), `"authorized_by":"`+repID+`"`) {
				t.Errorf("agents = %s, want the agent via certification authorised by the legal representative", agents.Raw)
			}
			if again := requestCertification(t, s, a.Session, a.AccountID); again.Status != http.StatusConflict || again.errorCode() != "ALREADY_CERTIFIED" {
				t.Errorf("request on a certified account = %d %s, want 409 ALREADY_CERTIFIED", again.Status, again.errorCode())
			}

			checkCertificationWorkflow(t, s, e, id)
			checkNoPersonalData(t, s, []person{a.Agent, e.Rep}, []string{share, refusedReq.str("share_token")}, workflows.CertificationRequestID(id))
		})
	}
}

// rolesOfAccount returns the comma-joined roles of accountID in a /v1/me response.
func rolesOfAccount(me response, accountID string) string {
	accounts, _ := me.Body["enterprise_accounts"].([]any)
	for _, raw := range accounts {
		account, _ := raw.(map[string]any)
		if account["id"] != accountID {
			continue
		}
		if account["trust_level"] != "certified" {
			return "trust_level " + account["trust_level"].(string)
		}
		roles, _ := account["roles"].([]any)
		var out []string
		for _, role := range roles {
			out = append(out, role.(string))
		}
		return strings.Join(out, ",")
	}
	return ""
}

// checkCertificationWorkflow checks what support staff see of a certified
// request in Temporal: its summary, search attributes and status query.
func checkCertificationWorkflow(t *testing.T, s *testenv.Stack, e enterprise, id string) {
	t.Helper()
	ctx := context.Background()
	workflowID := workflows.CertificationRequestID(id)
	var d *client.WorkflowExecutionDescription
	testenv.Eventually(t, 20*time.Second, "workflow to close", func() bool {
		var err error
		d, err = s.App.Temporal.DescribeWorkflow(ctx, workflowID, "")
		return err == nil && d.Status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	if summary, err := d.GetStaticSummary(); err != nil || summary != "企业账户认证申请 · "+e.Name {
		t.Errorf("static summary = %q (%v)", summary, err)
	}
	attrs := d.TypedSearchAttributes
	keywords := []struct {
		key  temporal.SearchAttributeKeyKeyword
		want string
	}{
		{workflows.AttrFlowKind, "certification-request"},
		{workflows.AttrFlowStatus, "certified"},
		{workflows.AttrUSCC, e.USCC},
	}
	for _, k := range keywords {
		if got, _ := attrs.GetKeyword(k.key); got != k.want {
			t.Errorf("search attribute %s = %q, want %q", k.key.GetName(), got, k.want)
		}
	}
	if _, ok := attrs.GetKeyword(workflows.AttrEnterpriseAccountID); !ok {
		t.Error("search attribute YstEnterpriseAccountID is missing")
	}
	value, err := s.App.Temporal.QueryWorkflow(ctx, workflowID, "", workflows.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var status string
	if err := value.Get(&status); err != nil || status != "certified" {
		t.Errorf("status query = %q (%v), want certified", status, err)
	}
}

// checkNoPersonalData checks the stack's log and a workflow's history for
// the people's names and ID numbers, and the log for the tokens.
func checkNoPersonalData(t *testing.T, s *testenv.Stack, people []person, tokens []string, workflowID string) {
	t.Helper()
	logs := s.Logs()
	history := s.App.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var raw strings.Builder
	for history.HasNext() {
		event, err := history.Next()
		if err != nil {
			t.Fatal(err)
		}
		raw.WriteString(event.String())
	}
	for i, p := range people {
		for what, value := range map[string]string{"name": p.Name, "ID number": p.IDNumber} {
			if strings.Contains(logs, value) {
				t.Errorf("the log contains person %d's %s", i, what)
			}
			if strings.Contains(raw.String(), value) {
				t.Errorf("the Temporal history contains person %d's %s in clear", i, what)
			}
		}
	}
	for _, token := range tokens {
		if strings.Contains(logs, token) || strings.Contains(raw.String(), token) {
			t.Error("the log or the Temporal history contains a share token")
		}
	}
	if !strings.Contains(raw.String(), "binary/encrypted") {
		t.Error("the Temporal history has no encrypted payloads")
	}
}

func TestCertificationRequest_ExpiredThenRequestedAgain(t *testing.T) {
	e := newEnterprise("广州市认证过期测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	s = restack(t, s, e, func(c *config.Config) { c.CertificationRequestTTL = 3 * time.Second })
	a := registerAsAgent(t, s, e)

	created := mustRequestCertification(t, s, a)
	expired := waitForShareStatus(t, s, created.str("share_token"), "expired")
	if len(expired.Body) != 2 {
		t.Errorf("expired preview = %s, want kind and status only", expired.Raw)
	}
	if r := getCertificationRequest(t, s, a.Session, created.str("id")); r.str("status") != "expired" {
		t.Errorf("GET after expiry = %s", r.Raw)
	}
	if r := decideCertification(t, s, created.str("share_token"), "agree"); r.Status != http.StatusConflict {
		t.Errorf("agree after expiry = %d, want 409", r.Status)
	}
	mustRequestCertification(t, s, a)
}

func TestCertificationRequest_ThreeFailuresEndIt(t *testing.T) {
	e := newEnterprise("广州市认证失败测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	a := registerAsAgent(t, s, e)
	created := mustRequestCertification(t, s, a)
	share := created.str("share_token")

	for range 3 {
		agreeAndVerify(t, s, share, map[string]string{"outcome": "fail"})
	}
	waitForShareStatus(t, s, share, "failed")
	failed := getCertificationRequest(t, s, a.Session, created.str("id"))
	if failed.Body["failed_verifications"] != 3.0 {
		t.Errorf("failed request = %s, want 3 failed verifications", failed.Raw)
	}
	if r := authorization(t, s, a.Session); r.Status != http.StatusForbidden {
		t.Errorf("after three failures: authorization = %d, want 403", r.Status)
	}
	mustRequestCertification(t, s, a)
}

func TestCertificationRequest_AccessRules(t *testing.T) {
	e := newEnterprise("广州市认证撤销测试有限公司")
	other := newEnterprise("广州市另一家测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e, other)
	a := registerAsAgent(t, s, e)
	created := mustRequestCertification(t, s, a)
	id := created.str("id")
	path := s.URL + "/v1/certification-requests/" + id

	stranger, _ := logIn(t, s, newPerson())
	otherAccount := mustAddEnterprise(t, s, a.PersonSession, other)
	otherSession := mustChooseEnterprise(t, s, a.PersonSession, otherAccount)
	for name, session := range map[string]string{"a stranger": stranger, "the requester acting for another account": otherSession} {
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			if r := call(t, method, path, nil, bearer(session)); r.Status != http.StatusNotFound {
				t.Errorf("%s %s by %s = %d, want 404", method, path, name, r.Status)
			}
		}
	}
	if r := requestCertification(t, s, a.PersonSession, a.AccountID); r.Status != http.StatusForbidden || r.errorCode() != "ENTERPRISE_SESSION_REQUIRED" {
		t.Errorf("request with a person session = %d %s, want 403 ENTERPRISE_SESSION_REQUIRED", r.Status, r.errorCode())
	}
	if r := requestCertification(t, s, stranger, a.AccountID); r.Status != http.StatusNotFound {
		t.Errorf("request for someone else's account = %d, want 404", r.Status)
	}
	if r := getCertificationRequest(t, s, a.PersonSession, id); r.Status != http.StatusOK {
		t.Errorf("GET with the requester's person session = %d, want 200", r.Status)
	}
	loginName := "crq" + secure.NewID()[:12]
	if r := setCredentials(t, s, a.Session, a.AccountID, loginName, "a long enough password"); r.Status != http.StatusOK {
		t.Fatalf("set credentials = %d %s", r.Status, r.Raw)
	}
	passwordSession := passwordLogin(t, s, loginName, "a long enough password").str("token")
	if r := requestCertification(t, s, passwordSession, a.AccountID); r.Status != http.StatusForbidden || r.errorCode() != "FACE_LOGIN_REQUIRED" {
		t.Errorf("request with a password-login session = %d %s, want 403 FACE_LOGIN_REQUIRED", r.Status, r.errorCode())
	}

	cancelled := call(t, http.MethodDelete, path, nil, bearer(a.Session))
	if cancelled.Status != http.StatusOK || cancelled.str("status") != "cancelled" {
		t.Fatalf("cancel = %d %s", cancelled.Status, cancelled.Raw)
	}
	if r := call(t, http.MethodDelete, path, nil, bearer(a.Session)); r.Status != http.StatusConflict || r.errorCode() != "CERTIFICATION_REQUEST_NOT_OPEN" {
		t.Errorf("second cancel = %d %s, want 409 CERTIFICATION_REQUEST_NOT_OPEN", r.Status, r.errorCode())
	}
	if r := shareStatus(t, s, created.str("share_token")); r.str("status") != "cancelled" || len(r.Body) != 2 {
		t.Errorf("cancelled preview = %s", r.Raw)
	}
	mustRequestCertification(t, s, a)
}

func TestCertificationRequest_RejectsBadDecisions(t *testing.T) {
	e := newEnterprise("广州市认证输入测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	a := registerAsAgent(t, s, e)
	share := mustRequestCertification(t, s, a).str("share_token")

	cases := []struct {
		name   string
		token  string
		body   any
		status int
		code   string
	}{
		{"unknown decision", share, map[string]string{"decision": "maybe"}, http.StatusBadRequest, "INVALID_DECISION"},
		{"missing decision", share, map[string]string{}, http.StatusBadRequest, "INVALID_DECISION"},
		{"unknown field", share, map[string]string{"decision": "agree", "name": "x"}, http.StatusBadRequest, "UNKNOWN_FIELD"},
		{"unknown token", "crq_" + secure.NewToken(), map[string]string{"decision": "agree"}, http.StatusNotFound, "NOT_FOUND"},
		{"invitation prefix", "inv_" + secure.NewToken(), map[string]string{"decision": "agree"}, http.StatusNotFound, "NOT_FOUND"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, http.MethodPost, s.URL+"/v1/shares/"+tc.token+"/decision", tc.body, nil)
			if r.Status != tc.status || r.errorCode() != tc.code {
				t.Errorf("= %d %s, want %d %s", r.Status, r.errorCode(), tc.status, tc.code)
			}
		})
	}
	if r := shareStatus(t, s, share); r.str("status") != "pending_consent" {
		t.Errorf("after rejected decisions the request is %s", r.Raw)
	}
}

func TestCertificationRequest_ConcurrentAgreeAndCancelGiveOneOutcome(t *testing.T) {
	e := newEnterprise("广州市认证并发测试有限公司")
	s := newEnterpriseStack(t, models.Postgres, e)
	a := registerAsAgent(t, s, e)
	created := mustRequestCertification(t, s, a)
	id, share := created.str("id"), created.str("share_token")

	const callers = 16
	statuses := make([]int, callers)
	verifications := make([]string, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i%2 == 0 {
				r := decideCertification(t, s, share, "agree")
				statuses[i], verifications[i] = r.Status, r.str("verification.id")
				return
			}
			statuses[i] = call(t, http.MethodDelete, s.URL+"/v1/certification-requests/"+id, nil, bearer(a.Session)).Status
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("statuses (even callers agree, odd ones cancel): %v", statuses)

	cancels := 0
	for i, status := range statuses {
		switch {
		case i%2 == 1 && status == http.StatusOK:
			cancels++
		case status != http.StatusOK && status != http.StatusConflict:
			t.Errorf("caller %d got %d, want 200 or 409", i, status)
		}
	}
	if cancels != 1 {
		t.Errorf("%d cancellations succeeded (%v), want 1", cancels, statuses)
		logFailures(t, s)
	}
	final := waitForCertificationRequest(t, s, a.Session, id, "request to be cancelled", hasStatus("cancelled"))
	if final.str("ended_at") == "" {
		t.Errorf("cancelled request = %s", final.Raw)
	}
	var events int64
	s.App.Store.DB().Model(&models.AuditEvent{}).Where("action = ?", models.AuditCertificationCancelled).Count(&events)
	if events != 1 {
		t.Errorf("%d cancellation audit events, want 1", events)
	}
	for _, verificationID := range verifications {
		if verificationID == "" {
			continue
		}
		testenv.Eventually(t, 20*time.Second, "verification of a cancelled request to end", func() bool {
			v, err := s.App.Store.Verification(t.Context(), verificationID)
			return err == nil && v.Status == models.VerificationExpired
		})
	}
	if r := authorization(t, s, a.Session); r.Status != http.StatusForbidden {
		t.Errorf("after cancellation: authorization = %d, want 403", r.Status)
	}
}

func TestCertificationRequest_SweepExpiresOverdue(t *testing.T) {
	e := newEnterprise("广州市认证清理测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	a := registerAsAgent(t, s, e)
	ctx := context.Background()
	created := mustRequestCertification(t, s, a)
	id := created.str("id")

	// The request's own timer is a week away; move its deadline into the
	// past so that the sweep finds it while its workflow still waits.
	err := s.App.Store.DB().Model(&models.CertificationRequest{}).Where("id = ?", id).
		Update("expires_at", time.Now().Add(-time.Hour).UTC()).Error
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

	if res.Expired["certification_requests"] != 1 || res.Terminated != 1 {
		t.Errorf("sweep expired %v and terminated %d, want 1 certification request and its workflow", res.Expired, res.Terminated)
	}
	if r := getCertificationRequest(t, s, a.Session, id); r.str("status") != "expired" {
		t.Errorf("after the sweep the request is %s", r.Raw)
	}
	mustRequestCertification(t, s, a)
}

func TestCertificationRequest_HistoryReplays(t *testing.T) {
	e := newEnterprise("广州市认证重放测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	s = restack(t, s, e, recordingKey)
	a := registerAsAgent(t, s, e)
	created := mustRequestCertification(t, s, a)
	share := created.str("share_token")

	agreeAndVerify(t, s, share, map[string]string{"outcome": "fail"})
	agreeAndVerify(t, s, share, map[string]string{"outcome": "pass"})
	waitForShareStatus(t, s, share, "certified")
	replayAndRecord(t, s, workflows.CertificationRequestID(created.str("id")), "certification_request_certified.json")
}

func TestCertificationRequest_IdempotencyKeyReplays(t *testing.T) {
	e := newEnterprise("广州市认证幂等测试有限公司")
	s := newEnterpriseStack(t, models.SQLite, e)
	a := registerAsAgent(t, s, e)
	headers := bearer(a.Session)
	headers["Idempotency-Key"] = "certify-" + secure.NewID()
	path := s.URL + "/v1/enterprise-accounts/" + a.AccountID + "/certification-requests"

	first := call(t, http.MethodPost, path, nil, headers)
	second := call(t, http.MethodPost, path, nil, headers)
	if first.Status != http.StatusCreated || second.Status != http.StatusCreated {
		t.Fatalf("statuses = %d and %d, want 201 twice", first.Status, second.Status)
	}
	if second.str("id") != first.str("id") || second.str("share_token") != first.str("share_token") {
		t.Errorf("the retry created another request: %s", second.Raw)
	}
	if second.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("the retry was not marked as replayed")
	}
	var n int64
	s.App.Store.DB().Model(&models.CertificationRequest{}).Where("enterprise_account_id = ?", a.AccountID).Count(&n)
	if n != 1 {
		t.Errorf("%d requests stored, want 1", n)
	}
}
