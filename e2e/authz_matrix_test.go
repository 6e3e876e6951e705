package e2e

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/gdyst/accountflows/api"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

// appRoutes returns "METHOD /pattern" of every route of the stack's API,
// from an Echo app built by api.New as the stack's own server is. Echo's
// catch-all routes for unmatched paths are left out.
func appRoutes(t *testing.T, s *testenv.Stack) []string {
	t.Helper()
	e, _, err := api.New(api.Deps{
		Config:   s.Config,
		Store:    s.App.Store,
		Temporal: s.App.Temporal,
		Sandbox:  s.App.Sandbox,
		Registry: s.App.Registry,
		Log:      zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Method, "echo_route_") || r.Method == http.MethodOptions {
			continue
		}
		routes = append(routes, r.Method+" "+r.Path)
	}
	sort.Strings(routes)
	return routes
}

// tableRows counts the rows of every table of the stack's database.
func tableRows(t *testing.T, s *testenv.Stack) map[string]int64 {
	t.Helper()
	db := s.App.Store.DB()
	query := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if s.App.Store.Dialect() == models.Postgres {
		query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
	}
	var tables []string
	if err := db.Raw(query).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, table := range tables {
		var n int64
		if err := db.Table(table).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// caller is one of the sessions the authorization matrix sends requests with.
type caller string

const (
	noSession    caller = "no session"
	unknownToken caller = "an unknown token"
	loggedOut    caller = "a logged-out session"
	// otherPerson is a stranger's person session.
	otherPerson caller = "another person"
	// otherEnterprise is the legal representative of another enterprise,
	// acting for it.
	otherEnterprise caller = "another enterprise"
	// agent is an agent, neither legal representative nor applicant, of the
	// account, acting for it.
	agent caller = "an agent"
	// requester has a pending link request to the account and is not its
	// member: they are not its applicant.
	requester caller = "the requester"
	// applicant is the account's applicant and legal representative, where
	// a route is for someone else, such as the requester.
	applicant caller = "the applicant"
	// owner is the caller the route is for, to show that the request the
	// others send would work.
	owner caller = "the owner"
)

// callers that every route needing a session must turn away with 401.
var unauthenticated = []caller{noSession, unknownToken, loggedOut}

// callers every route needing a session must have a row entry for.
var others = []caller{otherPerson, otherEnterprise, agent, requester}

// authzFixture holds account A, whose legal representative is also its
// applicant, with an agent, a pending invitation and a pending link
// request. It also holds an uncertified account C with an open
// certification request, another enterprise B and a stranger.
type authzFixture struct {
	tokens map[caller]string

	accountA, loginNameA     string
	agentID, invitationID    string
	invitationShare, linkID  string
	accountC, certRequestID  string
	certShare                string
	certRequesterSession     string
	feedbackID, faceLoginID  string
	verificationID, repToken string
	providerToken            string
	staffToken               string
	usccA                    string
}

func newAuthzFixture(t *testing.T, s *testenv.Stack, a, b, c enterprise) *authzFixture {
	t.Helper()
	f := &authzFixture{tokens: map[caller]string{unknownToken: secure.NewToken()}, staffToken: s.Config.StaffToken, usccA: a.USCC}
	f.loginNameA = "authz-" + strings.ToLower(a.USCC[8:16])
	account := newLinkableAccount(t, s, a, f.loginNameA)
	f.accountA, f.repToken = account.ID, account.RepSession
	f.tokens[applicant] = account.RepSession

	agentToken, agentID := logIn(t, s, newPerson())
	agentLink := mustRequestLink(t, s, agentToken, account)
	if r := decideLink(t, s, account.RepSession, agentLink, "approve"); r.Status != http.StatusOK {
		t.Fatalf("approve the agent: %d %s", r.Status, r.Raw)
	}
	f.agentID = agentID
	f.tokens[agent] = mustChooseEnterprise(t, s, agentToken, account.ID)

	requesterToken, _ := logIn(t, s, newPerson())
	f.linkID = mustRequestLink(t, s, requesterToken, account)
	f.tokens[requester] = requesterToken

	inv := mustInvite(t, s, account.RepSession, account.ID, newPerson())
	f.invitationID, f.invitationShare = inv.str("id"), inv.str("share_token")

	f.tokens[otherEnterprise], _ = certifiedAccount(t, s, b)
	f.tokens[otherPerson], _ = logIn(t, s, newPerson())

	certRequester := registerAsAgent(t, s, c)
	f.accountC, f.certRequesterSession = certRequester.AccountID, certRequester.Session
	certRequest := mustRequestCertification(t, s, certRequester)
	f.certRequestID, f.certShare = certRequest.str("id"), certRequest.str("share_token")

	gone, _ := logIn(t, s, newPerson())
	if r := call(t, http.MethodDelete, s.URL+"/v1/sessions/current", nil, bearer(gone)); r.Status != http.StatusNoContent {
		t.Fatalf("log out: %d %s", r.Status, r.Raw)
	}
	f.tokens[loggedOut] = gone

	fb := call(t, http.MethodPost, s.URL+"/v1/feedback", map[string]string{"content": "页面打不开"}, bearer(requesterToken))
	if fb.Status != http.StatusCreated {
		t.Fatalf("feedback: %d %s", fb.Status, fb.Raw)
	}
	f.feedbackID = fb.str("id")

	login := startFaceLogin(t, s, newPerson())
	f.faceLoginID, f.verificationID, f.providerToken = login.ID, login.VerificationID, login.ProviderToken
	return f
}

// authzRow is one route of the matrix.
type authzRow struct {
	route string // "METHOD /pattern" as Echo registers it
	path  func(f *authzFixture) string
	// body is sent as JSON; a func(*authzFixture) any is called for it first.
	body any
	// public is the reason the route needs no session; want[noSession] is
	// then the status a caller without one gets.
	public string
	// staff marks a route for YST_STAFF_TOKEN only: every session is 401.
	staff bool
	// own is the reason the row checks only the callers in want: the route
	// acts on the caller's own data, so another caller has nothing to be refused.
	own string
	// ownedBy is the caller of others the route is for, when it is one of
	// them; that caller needs no entry in want.
	ownedBy caller
	want    map[caller]int
}

func fixed(path string) func(*authzFixture) string { return func(*authzFixture) string { return path } }

func authzRows() []authzRow {
	accountA := func(suffix string) func(f *authzFixture) string {
		return func(f *authzFixture) string { return "/v1/enterprise-accounts/" + f.accountA + suffix }
	}
	link := func(suffix string) func(f *authzFixture) string {
		return func(f *authzFixture) string { return "/v1/account-link-requests/" + f.linkID + suffix }
	}
	certRequest := func(f *authzFixture) string { return "/v1/certification-requests/" + f.certRequestID }
	unknownShare := "/v1/shares/crq_" + secure.NewToken()
	newInvitee := newPerson()

	return []authzRow{
		{route: "GET /healthz", path: fixed("/healthz"), public: "liveness probe", want: map[caller]int{noSession: 200}},
		{route: "GET /readyz", path: fixed("/readyz"), public: "readiness probe", want: map[caller]int{noSession: 200}},
		{route: "GET /openapi.yaml", path: fixed("/openapi.yaml"), public: "the API's published description", want: map[caller]int{noSession: 200}},
		{route: "GET /metrics", path: fixed("/metrics"), public: "Prometheus scraping, kept off the public network by the operator", want: map[caller]int{noSession: 200}},
		{route: "GET /v1/support/contacts", path: fixed("/v1/support/contacts"), public: "the app shows the hotlines before login", want: map[caller]int{noSession: 200}},

		{route: "POST /v1/face-logins", path: fixed("/v1/face-logins"), body: map[string]string{"name": newInvitee.Name, "id_number": newInvitee.IDNumber},
			public: "starts the face login that creates a session", want: map[caller]int{noSession: 201}},
		{route: "GET /v1/face-logins/:id", path: func(f *authzFixture) string { return "/v1/face-logins/" + f.faceLoginID },
			public: "the X-Client-Secret of the login is the credential; without it the login is not found", want: map[caller]int{noSession: 404}},
		{route: "POST /v1/face-verifications/:id/report", path: func(f *authzFixture) string { return "/v1/face-verifications/" + f.verificationID + "/report" },
			public: "only wakes the flow, which pulls the result from the provider", want: map[caller]int{noSession: 202}},
		{route: "POST /v1/callbacks/face-verification", path: fixed("/v1/callbacks/face-verification"), body: map[string]string{"provider_token": "x"},
			public: "the provider's HMAC signature is the credential", want: map[caller]int{noSession: 401}},
		{route: "POST /v1/enterprise-logins", path: fixed("/v1/enterprise-logins"), body: map[string]string{"login_name": "authz-nobody", "password": "not the password"},
			public: "the login name and password are the credential", want: map[caller]int{noSession: 401}},
		{route: "GET /v1/shares/:token", path: func(f *authzFixture) string { return "/v1/shares/" + f.invitationShare },
			public: "the share token is the credential", want: map[caller]int{noSession: 200}},
		{route: "POST /v1/shares/:token/face-verifications", path: fixed("/v1/shares/inv_" + secure.NewToken() + "/face-verifications"),
			public: "the share token is the credential", want: map[caller]int{noSession: 404}},
		{route: "POST /v1/shares/:token/decision", path: fixed(unknownShare + "/decision"), body: map[string]string{"decision": "refuse"},
			public: "the share token is the credential", want: map[caller]int{noSession: 404}},
		{route: "GET /sandbox/face/:token", path: fixed("/sandbox/face/" + secure.NewToken()),
			public: "the sandbox provider's page; the provider token is the credential", want: map[caller]int{noSession: 404}},
		{route: "POST /sandbox/face/:token", path: fixed("/sandbox/face/" + secure.NewToken()), body: map[string]string{"outcome": "pass"},
			public: "the sandbox provider's page; the provider token is the credential", want: map[caller]int{noSession: 404}},

		{route: "GET /v1/me", path: fixed("/v1/me"), own: "shows the caller", want: map[caller]int{owner: 200}},
		{route: "DELETE /v1/sessions/current", path: fixed("/v1/sessions/current"), own: "ends the caller's own session", want: map[caller]int{}},
		{route: "GET /v1/session/authorization", path: fixed("/v1/session/authorization?requires=certified"), own: "checks the caller's own session", want: map[caller]int{owner: 200}},
		{route: "POST /v1/enterprise-accounts", path: fixed("/v1/enterprise-accounts"), body: map[string]string{"uscc": "91440106MA59K0001A", "enterprise_name": "x"},
			own:  "any person may add an enterprise for themselves; enterprise sessions may not",
			want: map[caller]int{otherEnterprise: 403, agent: 403}},
		{route: "POST /v1/account-link-requests", path: fixed("/v1/account-link-requests"), body: map[string]string{"login_name": "authz-nobody", "uscc": "91440106MA59K0001A"},
			own:  "any person may ask to link for themselves; enterprise sessions may not",
			want: map[caller]int{otherEnterprise: 403, agent: 403}},
		{route: "POST /v1/feedback", path: fixed("/v1/feedback"), body: map[string]string{"content": "x"}, own: "stores the caller's own feedback", want: map[caller]int{}},
		{route: "GET /v1/feedback", path: fixed("/v1/feedback"), own: "lists the caller's own feedback", want: map[caller]int{owner: 200}},

		{route: "POST /v1/sessions/enterprise", path: fixed("/v1/sessions/enterprise"),
			body: func(f *authzFixture) any { return map[string]string{"enterprise_account_id": f.accountA} },
			want: map[caller]int{otherPerson: 404, otherEnterprise: 403, agent: 403, requester: 404}},
		{route: "GET /v1/enterprise-accounts/:id", path: accountA(""),
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 200, requester: 404, owner: 200}},
		{route: "PUT /v1/enterprise-accounts/:id/credentials", path: accountA("/credentials"),
			body: map[string]string{"login_name": "authz-taken-over", "password": "another long password"},
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 403, requester: 404}},
		{route: "GET /v1/enterprise-accounts/:id/audit-events", path: accountA("/audit-events"),
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 403, requester: 404, owner: 200}},
		{route: "POST /v1/enterprise-accounts/:id/agent-invitations", path: accountA("/agent-invitations"),
			body: map[string]string{"name": newInvitee.Name, "id_number": newInvitee.IDNumber},
			want: map[caller]int{otherPerson: 403, otherEnterprise: 404, agent: 403, requester: 403}},
		{route: "GET /v1/enterprise-accounts/:id/agent-invitations", path: accountA("/agent-invitations"),
			want: map[caller]int{otherPerson: 403, otherEnterprise: 404, agent: 403, requester: 403, owner: 200}},
		{route: "DELETE /v1/agent-invitations/:id", path: func(f *authzFixture) string { return "/v1/agent-invitations/" + f.invitationID },
			want: map[caller]int{otherPerson: 403, otherEnterprise: 404, agent: 403, requester: 403}},
		{route: "GET /v1/enterprise-accounts/:id/agents", path: accountA("/agents"),
			want: map[caller]int{otherPerson: 403, otherEnterprise: 404, agent: 403, requester: 403, owner: 200}},
		{route: "DELETE /v1/enterprise-accounts/:id/agents/:person_id", path: func(f *authzFixture) string {
			return "/v1/enterprise-accounts/" + f.accountA + "/agents/" + f.agentID
		}, want: map[caller]int{otherPerson: 403, otherEnterprise: 404, agent: 403, requester: 403}},
		{route: "GET /v1/enterprise-accounts/:id/link-requests", path: accountA("/link-requests"),
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 403, requester: 404, owner: 200}},
		{route: "POST /v1/account-link-requests/:id/approve", path: link("/approve"),
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 403, requester: 404}},
		{route: "POST /v1/account-link-requests/:id/reject", path: link("/reject"),
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 403, requester: 404}},
		// Here the requester is the owner; the account's legal
		// representative and applicant is the one who may not see it.
		{route: "GET /v1/account-link-requests/:id", path: link(""), ownedBy: requester,
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 404, requester: 200, applicant: 404}},
		{route: "DELETE /v1/account-link-requests/:id", path: link(""), ownedBy: requester,
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 404, applicant: 404}},
		{route: "POST /v1/enterprise-accounts/:id/certification-requests", path: func(f *authzFixture) string {
			return "/v1/enterprise-accounts/" + f.accountC + "/certification-requests"
		}, want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 404, requester: 404}},
		{route: "GET /v1/certification-requests/:id", path: certRequest,
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 404, requester: 404, owner: 200}},
		{route: "DELETE /v1/certification-requests/:id", path: certRequest,
			want: map[caller]int{otherPerson: 404, otherEnterprise: 404, agent: 404, requester: 404}},

		{route: "GET /v1/staff/feedback", path: fixed("/v1/staff/feedback"), staff: true},
		{route: "POST /v1/staff/feedback/:id/replies", path: func(f *authzFixture) string { return "/v1/staff/feedback/" + f.feedbackID + "/replies" },
			body: map[string]string{"content": "x"}, staff: true},
		{route: "POST /codec/encode", path: fixed("/codec/encode"), body: map[string]any{"payloads": []any{}}, staff: true},
		{route: "POST /codec/decode", path: fixed("/codec/decode"), body: map[string]any{"payloads": []any{}}, staff: true},
	}
}

// ownerToken returns the token of the caller row is for.
func (f *authzFixture) ownerToken(row authzRow) string {
	switch row.route {
	case "GET /v1/certification-requests/:id":
		return f.certRequesterSession
	}
	return f.repToken
}

// TestAuthorization_EveryRoute sends each route's request as every kind of
// caller that should be turned away: 401 without a valid session, 403 for
// the wrong role or session kind, 404 for what the caller may not see. A
// route missing from the table fails the test.
func TestAuthorization_EveryRoute(t *testing.T) {
	a, b, c := newEnterprise("广州市权限矩阵甲有限公司"), newEnterprise("深圳市权限矩阵乙有限公司"), newEnterprise("佛山市权限矩阵丙有限公司")
	s := newEnterpriseStack(t, models.SQLite, a, b, c)
	f := newAuthzFixture(t, s, a, b, c)
	rows := authzRows()
	checkRowsCoverRoutes(t, s, rows)

	// The public face login and the wrong password store a login and a
	// failed attempt; nothing else may change.
	writtenByPublicRows := map[string]bool{"face_logins": true, "face_verifications": true, "sandbox_face_sessions": true, "login_attempts": true}
	before := tableRows(t, s)

	cases := 0
	for _, row := range rows {
		t.Run(row.route, func(t *testing.T) {
			method, _, _ := strings.Cut(row.route, " ")
			send := func(who caller, token string) response {
				headers := map[string]string{}
				if token != "" {
					headers = bearer(token)
				}
				body := row.body
				if build, ok := body.(func(*authzFixture) any); ok {
					body = build(f)
				}
				return call(t, method, s.URL+row.path(f), body, headers)
			}
			if row.public != "" {
				r := send(noSession, "")
				cases++
				checkStatus(t, noSession, r, row.want[noSession], "")
				return
			}
			for _, who := range unauthenticated {
				cases++
				wantCode := "UNAUTHENTICATED"
				if row.staff {
					wantCode = "STAFF_TOKEN_REQUIRED"
				}
				checkStatus(t, who, send(who, f.tokens[who]), http.StatusUnauthorized, wantCode)
			}
			if row.staff {
				for _, who := range append(others, owner) {
					cases++
					token := f.tokens[who]
					if who == owner {
						token = f.repToken
					}
					checkStatus(t, who, send(who, token), http.StatusUnauthorized, "STAFF_TOKEN_REQUIRED")
				}
				return
			}
			if row.own == "" {
				for _, who := range others {
					if _, ok := row.want[who]; !ok && who != row.ownedBy {
						t.Errorf("the row has no expected status for %s", who)
					}
				}
			}
			for _, who := range append(others, applicant, owner) {
				want, ok := row.want[who]
				if !ok {
					continue
				}
				token := f.tokens[who]
				if who == owner {
					token = f.ownerToken(row)
				}
				cases++
				checkStatus(t, who, send(who, token), want, "")
			}
		})
	}
	t.Logf("%d routes, %d requests", len(rows), cases)

	after := tableRows(t, s)
	for table, n := range after {
		if n != before[table] && !writtenByPublicRows[table] {
			t.Errorf("table %s had %d rows before the refused requests and %d after", table, before[table], n)
		}
	}
	checkFixtureUnchanged(t, s, f)
}

// checkStatus compares a response with the expected status. Refusals must
// carry the code that goes with their status, so a 404 reveals nothing
// beyond NOT_FOUND.
func checkStatus(t *testing.T, who caller, r response, want int, wantCode string) {
	t.Helper()
	if r.Status != want {
		t.Errorf("%s: status %d %s, want %d", who, r.Status, r.Raw, want)
		return
	}
	if want < 400 {
		return
	}
	code := r.errorCode()
	switch {
	case wantCode != "" && code != wantCode:
		t.Errorf("%s: code %s, want %s", who, code, wantCode)
	case want == http.StatusNotFound && code != "NOT_FOUND":
		t.Errorf("%s: 404 with code %s, want NOT_FOUND", who, code)
	case want == http.StatusForbidden && code != "FORBIDDEN" && code != "ENTERPRISE_SESSION_REQUIRED" && code != "PERSON_SESSION_REQUIRED" && code != "FACE_LOGIN_REQUIRED":
		t.Errorf("%s: 403 with code %s, want a code of a refused role or session kind", who, code)
	case code == "":
		t.Errorf("%s: status %d without an error code: %s", who, r.Status, r.Raw)
	}
}

// checkRowsCoverRoutes fails on a route without a row and on a row without a route.
func checkRowsCoverRoutes(t *testing.T, s *testenv.Stack, rows []authzRow) {
	t.Helper()
	covered := map[string]bool{}
	for _, row := range rows {
		if covered[row.route] {
			t.Errorf("route %s has two rows", row.route)
		}
		covered[row.route] = true
	}
	routes := map[string]bool{}
	for _, route := range appRoutes(t, s) {
		routes[route] = true
		if !covered[route] {
			t.Errorf("route %s has no row in the authorization matrix: add one", route)
		}
	}
	for route := range covered {
		if !routes[route] {
			t.Errorf("the authorization matrix has a row for %s, which is not a route", route)
		}
	}
}

// checkFixtureUnchanged checks that no refused request changed a flow or a membership.
func checkFixtureUnchanged(t *testing.T, s *testenv.Stack, f *authzFixture) {
	t.Helper()
	if got := shareStatus(t, s, f.invitationShare).str("status"); got != "pending" {
		t.Errorf("the invitation is %q, want pending", got)
	}
	if got := linkRequest(t, s, f.tokens[requester], f.linkID).str("status"); got != "pending_approval" {
		t.Errorf("the link request is %q, want pending_approval", got)
	}
	if got := getCertificationRequest(t, s, f.certRequesterSession, f.certRequestID).str("status"); got != "pending_consent" {
		t.Errorf("the certification request is %q, want pending_consent", got)
	}
	if n := countAgentRows(t, s, f.accountA, f.agentID); n != 1 {
		t.Errorf("the agent has %d agent memberships, want 1", n)
	}
	if r := passwordLogin(t, s, f.loginNameA, linkPassword); r.Status != http.StatusOK {
		t.Errorf("password login with the original credentials = %d, want 200", r.Status)
	}
}
