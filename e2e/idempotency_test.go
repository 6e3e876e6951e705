package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

// postsWithoutKey are the POST routes that create nothing, so an
// Idempotency-Key has nothing to protect, with the reason for each.
var postsWithoutKey = map[string]string{
	"POST /v1/face-verifications/:id/report": "only wakes the flow, which pulls the result; a repeat changes nothing",
	"POST /v1/callbacks/face-verification":   "a provider's push; a duplicate delivery changes nothing",
	"POST /v1/enterprise-logins":             "deliberately none: the stored request hash would be an unsalted hash of the password",
	"POST /codec/encode":                     "converts payloads and stores nothing",
	"POST /codec/decode":                     "converts payloads and stores nothing",
	"POST /sandbox/face/:token":              "records the sandbox outcome once; a second one is 409 VERIFICATION_ALREADY_DECIDED",
}

// idempotencyCase is one creating POST: the same key sent with body, then
// again, then with otherBody.
type idempotencyCase struct {
	route           string
	path            string
	token           string
	body, otherBody any
	// table is where the request stores what it creates, and created how
	// many rows the first request adds to it.
	table   string
	created int64
}

// TestIdempotency_EveryCreatingPost sends every creating POST twice with
// one key and one body, which must return the first response, and then
// with the key and another body, which must be 422 IDEMPOTENCY_KEY_REUSED.
// A POST route that is neither a case here nor in postsWithoutKey fails
// the test.
func TestIdempotency_EveryCreatingPost(t *testing.T) {
	a, b, c, d := newEnterprise("广州市幂等甲有限公司"), newEnterprise("深圳市幂等乙有限公司"), newEnterprise("佛山市幂等丙有限公司"), newEnterprise("珠海市幂等丁有限公司")
	s := newEnterpriseStack(t, models.Postgres, a, b, c, d)
	f := newAuthzFixture(t, s, a, b, c)

	covered := map[string]bool{}
	run := func(tc idempotencyCase) response {
		t.Helper()
		covered[tc.route] = true
		var first response
		t.Run(tc.route, func(t *testing.T) { first = checkIdempotentCase(t, s, tc) })
		return first
	}

	newcomer := newPerson()
	run(idempotencyCase{route: "POST /v1/face-logins", path: "/v1/face-logins",
		body:      map[string]string{"name": newcomer.Name, "id_number": newcomer.IDNumber},
		otherBody: map[string]string{"name": "赵敏", "id_number": newcomer.IDNumber},
		table:     "face_logins", created: 1})

	personToken, _ := logIn(t, s, newPerson())
	account := run(idempotencyCase{route: "POST /v1/enterprise-accounts", path: "/v1/enterprise-accounts", token: personToken,
		body:      map[string]string{"uscc": d.USCC, "enterprise_name": d.Name},
		otherBody: map[string]string{"uscc": a.USCC, "enterprise_name": a.Name},
		table:     "enterprise_accounts", created: 1})
	chosen := run(idempotencyCase{route: "POST /v1/sessions/enterprise", path: "/v1/sessions/enterprise", token: personToken,
		body:      map[string]string{"enterprise_account_id": account.str("id")},
		otherBody: map[string]string{"enterprise_account_id": f.accountA},
		table:     "sessions", created: 1})
	run(idempotencyCase{route: "POST /v1/enterprise-accounts/:id/certification-requests",
		path:  "/v1/enterprise-accounts/" + account.str("id") + "/certification-requests",
		token: chosen.str("token"), body: nil, otherBody: map[string]string{},
		table: "certification_requests", created: 1})

	invitee, someoneElse := newPerson(), newPerson()
	run(idempotencyCase{route: "POST /v1/enterprise-accounts/:id/agent-invitations",
		path: "/v1/enterprise-accounts/" + f.accountA + "/agent-invitations", token: f.repToken,
		body:      map[string]string{"name": invitee.Name, "id_number": invitee.IDNumber},
		otherBody: map[string]string{"name": someoneElse.Name, "id_number": someoneElse.IDNumber},
		table:     "agent_invitations", created: 1})
	run(idempotencyCase{route: "POST /v1/shares/:token/face-verifications",
		path: "/v1/shares/" + f.invitationShare + "/face-verifications",
		body: nil, otherBody: map[string]string{},
		table: "face_verifications", created: 1})
	run(idempotencyCase{route: "POST /v1/shares/:token/decision", path: "/v1/shares/" + f.certShare + "/decision",
		body: map[string]string{"decision": "agree"}, otherBody: map[string]string{"decision": "refuse"},
		table: "face_verifications", created: 1})
	if got := getCertificationRequest(t, s, f.certRequesterSession, f.certRequestID).str("status"); got != "pending_verification" {
		t.Errorf("after agree and a refusal with the agree's key the request is %q, want pending_verification", got)
	}

	linker, _ := logIn(t, s, newPerson())
	link := run(idempotencyCase{route: "POST /v1/account-link-requests", path: "/v1/account-link-requests", token: linker,
		body:      map[string]string{"login_name": f.loginNameA, "uscc": a.USCC},
		otherBody: map[string]string{"login_name": f.loginNameA, "uscc": b.USCC},
		table:     "account_link_requests", created: 1})
	run(idempotencyCase{route: "POST /v1/account-link-requests/:id/approve",
		path: "/v1/account-link-requests/" + link.str("id") + "/approve", token: f.repToken,
		body: nil, otherBody: map[string]string{},
		table: "memberships", created: 1})
	run(idempotencyCase{route: "POST /v1/account-link-requests/:id/reject",
		path: "/v1/account-link-requests/" + f.linkID + "/reject", token: f.repToken,
		body: nil, otherBody: map[string]string{},
		table: "audit_events", created: 1})

	run(idempotencyCase{route: "POST /v1/feedback", path: "/v1/feedback", token: personToken,
		body: map[string]string{"content": "扫码后页面空白"}, otherBody: map[string]string{"content": "扫码后页面空白。"},
		table: "feedback", created: 1})
	run(idempotencyCase{route: "POST /v1/staff/feedback/:id/replies", path: "/v1/staff/feedback/" + f.feedbackID + "/replies", token: f.staffToken,
		body: map[string]string{"content": "您好，已处理。"}, otherBody: map[string]string{"content": "您好，正在处理。"},
		table: "feedback_replies", created: 1})

	for _, route := range appRoutes(t, s) {
		if !strings.HasPrefix(route, "POST ") || covered[route] {
			continue
		}
		if _, ok := postsWithoutKey[route]; !ok {
			t.Errorf("POST route %s is neither tested for Idempotency-Key nor listed as creating nothing", route)
		}
	}
}

// checkIdempotentCase runs one case and returns the first response.
func checkIdempotentCase(t *testing.T, s *testenv.Stack, tc idempotencyCase) response {
	t.Helper()
	headers := map[string]string{"Idempotency-Key": "idem-" + secure.NewID()}
	if tc.token != "" {
		headers["Authorization"] = "Bearer " + tc.token
	}
	before := countRows(t, s, tc.table)

	first := call(t, http.MethodPost, s.URL+tc.path, tc.body, headers)
	if first.Status >= 300 {
		t.Fatalf("first request = %d %s, want it to succeed", first.Status, first.Raw)
	}
	retry := call(t, http.MethodPost, s.URL+tc.path, tc.body, headers)
	if retry.Status != first.Status || !bytes.Equal(retry.Raw, first.Raw) {
		t.Errorf("retry = %d %s, want the first response %d %s", retry.Status, retry.Raw, first.Status, first.Raw)
	}
	if retry.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("the retry is not marked Idempotent-Replayed")
	}
	other := call(t, http.MethodPost, s.URL+tc.path, tc.otherBody, headers)
	if other.Status != http.StatusUnprocessableEntity || other.errorCode() != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("same key, another body = %d %s, want 422 IDEMPOTENCY_KEY_REUSED", other.Status, other.Raw)
	}
	if n := countRows(t, s, tc.table); int64(n-before) != tc.created {
		t.Errorf("table %s gained %d rows, want %d", tc.table, n-before, tc.created)
	}
	return first
}

// TestIdempotency_KeyScope checks that a key belongs to one caller and one
// path: another person sending the same key and body gets their own
// result, never the first caller's response.
func TestIdempotency_KeyScope(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite)
	first, _ := logIn(t, s, newPerson())
	second, _ := logIn(t, s, newPerson())
	key := "shared-" + secure.NewID()
	body := map[string]string{"content": "同一个幂等键"}
	send := func(token, path string) response {
		headers := bearer(token)
		headers["Idempotency-Key"] = key
		return call(t, http.MethodPost, s.URL+path, body, headers)
	}

	mine := send(first, "/v1/feedback")
	theirs := send(second, "/v1/feedback")
	if mine.Status != http.StatusCreated || theirs.Status != http.StatusCreated {
		t.Fatalf("statuses = %d and %d, want 201 twice", mine.Status, theirs.Status)
	}
	if theirs.str("id") == mine.str("id") || theirs.Header.Get("Idempotent-Replayed") == "true" {
		t.Errorf("another person with the same key got the first person's response: %s", theirs.Raw)
	}
	if r := send(first, "/v1/face-logins"); r.Status == http.StatusUnprocessableEntity {
		t.Errorf("the same key on another path = %d %s, want it judged on its own", r.Status, r.Raw)
	}
}

// TestIdempotency_ConcurrentRetries sends one creating request 16 times at
// once with one key: one invitation is created, and every response is
// that invitation or 409 IDEMPOTENCY_KEY_IN_USE.
func TestIdempotency_ConcurrentRetries(t *testing.T) {
	e := newEnterprise("广州市幂等并发测试有限公司")
	s := newEnterpriseStack(t, models.Postgres, e)
	repSession, accountID := certifiedAccount(t, s, e)
	invitee := newPerson()
	headers := bearer(repSession)
	headers["Idempotency-Key"] = "concurrent-" + secure.NewID()
	path := s.URL + "/v1/enterprise-accounts/" + accountID + "/agent-invitations"

	rs := race(racers, func(int) response {
		return call(t, http.MethodPost, path, map[string]string{"name": invitee.Name, "id_number": invitee.IDNumber}, headers)
	})
	counts := tally(t, rs, http.StatusCreated, http.StatusConflict)
	checkConflictCodes(t, rs, http.StatusConflict, "IDEMPOTENCY_KEY_IN_USE")
	t.Logf("%d responses 201, %d responses 409", counts[http.StatusCreated], counts[http.StatusConflict])
	ids := map[string]bool{}
	for _, r := range rs {
		if r.Status == http.StatusCreated {
			ids[r.str("id")] = true
		}
	}
	if len(ids) != 1 {
		t.Errorf("%d created responses name %d invitations, want 1", counts[http.StatusCreated], len(ids))
	}
	var n int64
	s.App.Store.DB().Model(&models.AgentInvitation{}).Where("enterprise_account_id = ?", accountID).Count(&n)
	if n != 1 {
		t.Errorf("%d invitations stored, want 1", n)
	}
	retry := call(t, http.MethodPost, path, map[string]string{"name": invitee.Name, "id_number": invitee.IDNumber}, headers)
	if retry.Status != http.StatusCreated || !ids[retry.str("id")] {
		t.Errorf("a retry after the race = %d %s, want the created invitation", retry.Status, retry.Raw)
	}
}
