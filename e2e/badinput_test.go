package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

// badRequest is one malformed request of the bad-input suite.
type badRequest struct {
	name        string
	path        string // with query, if any
	body        []byte // nil sends no body
	contentType string
	headers     map[string]string
}

// bodyField is a field of a route's JSON body.
type bodyField struct {
	name     string
	optional bool
}

// bodyRoute is a route whose parameters come in a JSON body, or in no
// body at all (bodyless).
type bodyRoute struct {
	route    string // "METHOD /pattern"
	path     func(f *authzFixture) string
	token    func(f *authzFixture) string
	bodyless bool
	// valid is a body the route accepts; the suite breaks it one way at a time.
	valid  func(f *authzFixture) map[string]any
	fields []bodyField
	// signed routes get each body signed with the provider's callback secret.
	signed bool
	// acknowledges is the reason the route may accept a well-formed body of
	// wrong values with 2xx and no effect.
	acknowledges string
}

// longText is a string far longer than any field allows, well under the
// 64 KiB body limit.
var longText = strings.Repeat("长", 5000)

// fieldValues are the wrong values each field gets, as raw JSON.
var fieldValues = []struct{ name, raw string }{
	{"a number", `1`},
	{"a huge number", `123456789012345678901234567890123456789e400`},
	{"true", `true`},
	{"an object", `{"a":"b"}`},
	{"an array", `["a"]`},
	{"control characters", `"a\u0000b\u0007c\u001b[31m"`},
	{"a very long string", strconv.Quote(longText)},
}

// bodyRequests builds the malformed requests of a body route.
func bodyRequests(t *testing.T, r bodyRoute, f *authzFixture) []badRequest {
	t.Helper()
	path := r.path(f)
	var out []badRequest
	add := func(name string, body []byte, contentType string) {
		out = append(out, badRequest{name: name, path: path, body: body, contentType: contentType})
	}
	oversized := []byte(`{"padding":"` + strings.Repeat("x", 70<<10) + `"}`)
	if r.bodyless {
		add("an unknown field", []byte(`{"extra":1}`), "application/json")
		add("an array", []byte(`[]`), "application/json")
		add("a string", []byte(`"text"`), "application/json")
		add("truncated JSON", []byte(`{`), "application/json")
		add("invalid UTF-8", []byte("{\"\xff\":1}"), "application/json")
		add("a form", []byte(`a=1`), "application/x-www-form-urlencoded")
		add("over 64 KiB", oversized, "application/json")
		return out
	}

	valid := r.valid(f)
	encode := func(m map[string]any) []byte {
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	validRaw := encode(valid)
	add("an empty body", []byte{}, "application/json")
	add("a blank body", []byte(" \n\t"), "application/json")
	add("null", []byte(`null`), "application/json")
	add("an array", []byte(`[]`), "application/json")
	add("a string", []byte(`"text"`), "application/json")
	add("a huge number", []byte(`1234567890123456789012345678901234567890`), "application/json")
	add("truncated JSON", validRaw[:len(validRaw)-1], "application/json")
	add("two objects", append(append([]byte{}, validRaw...), []byte(`{}`)...), "application/json")
	add("trailing garbage", append(append([]byte{}, validRaw...), 'x'), "application/json")
	add("deep nesting", []byte(strings.Repeat("[", 20000)+strings.Repeat("]", 20000)), "application/json")
	add("text/plain", validRaw, "text/plain")
	add("a form", []byte(`a=1`), "application/x-www-form-urlencoded")
	add("over 64 KiB", oversized, "application/json")

	withExtra := map[string]any{"is_admin": true}
	for k, v := range valid {
		withExtra[k] = v
	}
	add("an unknown field", encode(withExtra), "application/json")

	for _, field := range r.fields {
		rawFields := map[string]json.RawMessage{}
		for k, v := range valid {
			raw, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			rawFields[k] = raw
		}
		with := func(raw string) []byte {
			m := map[string]json.RawMessage{}
			for k, v := range rawFields {
				m[k] = v
			}
			if raw == "" {
				delete(m, field.name)
			} else {
				m[field.name] = json.RawMessage(raw)
			}
			out, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		for _, v := range fieldValues {
			add(field.name+" "+v.name, with(v.raw), "application/json")
		}
		// Go's encoder would replace invalid UTF-8, so this body is spliced by hand.
		invalid := strings.Replace(string(with(`"PLACEHOLDER"`)), "PLACEHOLDER", "a\xff\xfeb", 1)
		add(field.name+" invalid UTF-8", []byte(invalid), "application/json")
		if !field.optional {
			add(field.name+" missing", with(""), "application/json")
			add(field.name+" null", with(`null`), "application/json")
			add(field.name+" empty", with(`""`), "application/json")
		}
	}
	return out
}

// pathRoute is a route whose input is its path parameter, or its query
// when queries is set.
type pathRoute struct {
	route string
	// path builds the request path from a raw, already escaped parameter.
	path    func(f *authzFixture, param string) string
	token   func(f *authzFixture) string
	queries []string
	// reads lists the query parameters the route reads. A bad value of one
	// of them must be refused. Others are ignored, so any status but a 5xx
	// will do.
	reads []string
}

// badParams are path parameters no object has, escaped for a URL.
var badParams = []struct{ name, raw string }{
	{"very long", strings.Repeat("a", 4000)},
	{"NUL", "%00"},
	{"control characters", "%1b%5b31m%07"},
	{"invalid UTF-8", "%ff%fe"},
	{"Chinese", "%E4%B8%AD%E6%96%87"},
	{"upper-case hex", strings.ToUpper(secure.NewID())},
	{"SQL", "%27%20OR%201%3D1%20--"},
	{"dot segments", "..%2f..%2fetc"},
	{"huge number", "123456789012345678901234567890123456789"},
}

// badQueries are query strings every listing route must refuse or ignore.
var badQueries = []string{
	"limit=abc", "limit=-1", "limit=0", "limit=101", "limit=99999999999999999999999", "limit=1e3",
	"cursor=not-a-cursor", "cursor=%ff%fe", "cursor=" + strings.Repeat("c", 300), "cursor=%00",
	"status=bogus", "status=%00", "status=" + strings.Repeat("s", 300),
}

func bodyRoutes() []bodyRoute {
	none := func(*authzFixture) string { return "" }
	rep := func(f *authzFixture) string { return f.repToken }
	stranger := func(f *authzFixture) string { return f.tokens[otherPerson] }
	requesterToken := func(f *authzFixture) string { return f.tokens[requester] }
	staff := func(f *authzFixture) string { return f.staffToken }
	idNumber := newPerson().IDNumber

	return []bodyRoute{
		{route: "POST /v1/face-logins", path: fixedPath("/v1/face-logins"), token: none,
			valid:  func(*authzFixture) map[string]any { return map[string]any{"name": "张伟", "id_number": idNumber} },
			fields: []bodyField{{name: "name"}, {name: "id_number"}, {name: "id_type", optional: true}}},
		{route: "POST /v1/enterprise-accounts", path: fixedPath("/v1/enterprise-accounts"), token: stranger,
			valid: func(f *authzFixture) map[string]any {
				return map[string]any{"uscc": f.usccA, "enterprise_name": "广州市坏输入甲有限公司"}
			},
			fields: []bodyField{{name: "uscc"}, {name: "enterprise_name"}}},
		{route: "POST /v1/sessions/enterprise", path: fixedPath("/v1/sessions/enterprise"), token: stranger,
			valid:  func(f *authzFixture) map[string]any { return map[string]any{"enterprise_account_id": f.accountA} },
			fields: []bodyField{{name: "enterprise_account_id"}}},
		{route: "PUT /v1/enterprise-accounts/:id/credentials", token: rep,
			path: func(f *authzFixture) string { return "/v1/enterprise-accounts/" + f.accountA + "/credentials" },
			valid: func(f *authzFixture) map[string]any {
				return map[string]any{"login_name": f.loginNameA, "password": linkPassword}
			},
			fields: []bodyField{{name: "login_name"}, {name: "password"}}},
		{route: "POST /v1/enterprise-logins", path: fixedPath("/v1/enterprise-logins"), token: none,
			valid: func(*authzFixture) map[string]any {
				return map[string]any{"login_name": "badinput-nobody", "password": linkPassword}
			},
			fields: []bodyField{{name: "login_name"}, {name: "password"}}},
		{route: "POST /v1/enterprise-accounts/:id/agent-invitations", token: rep,
			path: func(f *authzFixture) string { return "/v1/enterprise-accounts/" + f.accountA + "/agent-invitations" },
			valid: func(*authzFixture) map[string]any {
				return map[string]any{"name": "王芳", "id_number": idNumber, "mobile": "13800138000"}
			},
			fields: []bodyField{{name: "name"}, {name: "id_number"}, {name: "id_type", optional: true}, {name: "mobile", optional: true}}},
		{route: "POST /v1/shares/:token/decision", token: none,
			path:   func(f *authzFixture) string { return "/v1/shares/" + f.certShare + "/decision" },
			valid:  func(*authzFixture) map[string]any { return map[string]any{"decision": "refuse"} },
			fields: []bodyField{{name: "decision"}}},
		{route: "POST /v1/account-link-requests", path: fixedPath("/v1/account-link-requests"), token: requesterToken,
			valid: func(f *authzFixture) map[string]any {
				return map[string]any{"login_name": f.loginNameA, "uscc": f.usccA}
			},
			fields: []bodyField{{name: "login_name"}, {name: "uscc"}}},
		{route: "POST /v1/feedback", path: fixedPath("/v1/feedback"), token: stranger,
			valid: func(*authzFixture) map[string]any {
				return map[string]any{"content": "页面打不开", "contact": "13800138000"}
			},
			fields: []bodyField{{name: "content"}, {name: "contact", optional: true}}},
		{route: "POST /v1/staff/feedback/:id/replies", token: staff,
			path:   func(f *authzFixture) string { return "/v1/staff/feedback/" + f.feedbackID + "/replies" },
			valid:  func(*authzFixture) map[string]any { return map[string]any{"content": "您好，已处理。"} },
			fields: []bodyField{{name: "content"}}},
		{route: "POST /sandbox/face/:token", token: none,
			path: func(f *authzFixture) string { return "/sandbox/face/" + f.providerToken },
			valid: func(*authzFixture) map[string]any {
				return map[string]any{"outcome": "fail", "verified_name": "张伟", "verified_id_number": idNumber}
			},
			fields: []bodyField{{name: "outcome"}, {name: "verified_name", optional: true}, {name: "verified_id_number", optional: true}}},
		{route: "POST /v1/callbacks/face-verification", path: fixedPath("/v1/callbacks/face-verification"), token: none, signed: true,
			acknowledges: "a signed callback for a token the provider never issued gets 200, so that the provider stops retrying",
			valid: func(f *authzFixture) map[string]any {
				return map[string]any{"provider_token": f.providerToken, "event": "verification.completed"}
			},
			fields: []bodyField{{name: "provider_token"}, {name: "event", optional: true}}},
		{route: "POST /codec/encode", path: fixedPath("/codec/encode"), token: staff,
			valid:  func(*authzFixture) map[string]any { return map[string]any{"payloads": []any{}} },
			fields: []bodyField{{name: "payloads", optional: true}}},
		{route: "POST /codec/decode", path: fixedPath("/codec/decode"), token: staff,
			valid:  func(*authzFixture) map[string]any { return map[string]any{"payloads": []any{}} },
			fields: []bodyField{{name: "payloads", optional: true}}},

		{route: "POST /v1/enterprise-accounts/:id/certification-requests", bodyless: true,
			path: func(f *authzFixture) string {
				return "/v1/enterprise-accounts/" + f.accountC + "/certification-requests"
			},
			token: func(f *authzFixture) string { return f.certRequesterSession }},
		{route: "POST /v1/account-link-requests/:id/approve", bodyless: true, token: rep,
			path: func(f *authzFixture) string { return "/v1/account-link-requests/" + f.linkID + "/approve" }},
		{route: "POST /v1/account-link-requests/:id/reject", bodyless: true, token: rep,
			path: func(f *authzFixture) string { return "/v1/account-link-requests/" + f.linkID + "/reject" }},
		{route: "POST /v1/shares/:token/face-verifications", bodyless: true, token: none,
			path: func(f *authzFixture) string { return "/v1/shares/" + f.invitationShare + "/face-verifications" }},
		{route: "POST /v1/face-verifications/:id/report", bodyless: true, token: none,
			path: func(f *authzFixture) string { return "/v1/face-verifications/" + f.verificationID + "/report" }},
	}
}

func fixedPath(path string) func(*authzFixture) string {
	return func(*authzFixture) string { return path }
}

func pathRoutes() []pathRoute {
	rep := func(f *authzFixture) string { return f.repToken }
	staff := func(f *authzFixture) string { return f.staffToken }
	none := func(*authzFixture) string { return "" }
	requesterToken := func(f *authzFixture) string { return f.tokens[requester] }
	accountPath := func(suffix string) func(*authzFixture, string) string {
		return func(_ *authzFixture, param string) string { return "/v1/enterprise-accounts/" + param + suffix }
	}
	accountA := func(suffix string) func(*authzFixture, string) string {
		return func(f *authzFixture, _ string) string { return "/v1/enterprise-accounts/" + f.accountA + suffix }
	}
	prefixed := func(prefix, suffix string) func(*authzFixture, string) string {
		return func(_ *authzFixture, param string) string { return prefix + param + suffix }
	}
	return []pathRoute{
		{route: "GET /v1/face-logins/:id", path: prefixed("/v1/face-logins/", ""), token: none},
		{route: "GET /v1/enterprise-accounts/:id", path: accountPath(""), token: rep},
		{route: "GET /v1/enterprise-accounts/:id/audit-events", path: accountPath("/audit-events"), token: rep},
		{route: "GET /v1/enterprise-accounts/:id/audit-events?", path: accountA("/audit-events"), token: rep, queries: badQueries, reads: []string{"limit", "cursor"}},
		{route: "GET /v1/enterprise-accounts/:id/agent-invitations", path: accountPath("/agent-invitations"), token: rep},
		{route: "GET /v1/enterprise-accounts/:id/agent-invitations?", path: accountA("/agent-invitations"), token: rep, queries: badQueries, reads: []string{"status"}},
		{route: "GET /v1/enterprise-accounts/:id/agents", path: accountPath("/agents"), token: rep},
		{route: "DELETE /v1/enterprise-accounts/:id/agents/:person_id", token: rep, path: func(f *authzFixture, param string) string {
			return "/v1/enterprise-accounts/" + f.accountA + "/agents/" + param
		}},
		{route: "DELETE /v1/agent-invitations/:id", path: prefixed("/v1/agent-invitations/", ""), token: rep},
		{route: "GET /v1/enterprise-accounts/:id/link-requests", path: accountPath("/link-requests"), token: rep},
		{route: "GET /v1/enterprise-accounts/:id/link-requests?", path: accountA("/link-requests"), token: rep, queries: badQueries, reads: []string{"status"}},
		{route: "GET /v1/shares/:token", path: prefixed("/v1/shares/", ""), token: none},
		{route: "GET /v1/shares/:token (invitation prefix)", path: prefixed("/v1/shares/inv_", ""), token: none},
		{route: "GET /v1/certification-requests/:id", path: prefixed("/v1/certification-requests/", ""), token: rep},
		{route: "DELETE /v1/certification-requests/:id", path: prefixed("/v1/certification-requests/", ""), token: rep},
		{route: "GET /v1/account-link-requests/:id", path: prefixed("/v1/account-link-requests/", ""), token: requesterToken},
		{route: "DELETE /v1/account-link-requests/:id", path: prefixed("/v1/account-link-requests/", ""), token: requesterToken},
		{route: "POST /v1/account-link-requests/:id/approve", path: prefixed("/v1/account-link-requests/", "/approve"), token: rep},
		{route: "GET /sandbox/face/:token", path: prefixed("/sandbox/face/", ""), token: none},
		{route: "GET /v1/session/authorization?", path: func(*authzFixture, string) string { return "/v1/session/authorization" }, token: rep,
			queries: []string{"", "requires=", "requires=uncertified", "requires=certified,certified", "requires=%00", "requires=" + longText},
			reads:   []string{"", "requires"}},
		{route: "GET /v1/feedback?", path: func(*authzFixture, string) string { return "/v1/feedback" }, token: requesterToken,
			queries: badQueries, reads: []string{"limit", "cursor"}},
		{route: "GET /v1/staff/feedback?", path: func(*authzFixture, string) string { return "/v1/staff/feedback" }, token: staff,
			queries: badQueries, reads: []string{"status", "limit", "cursor"}},
	}
}

// sendRaw sends a bad request with raw bytes, so that nothing re-encodes it.
func sendRaw(t *testing.T, s *testenv.Stack, method string, req badRequest) response {
	t.Helper()
	var body io.Reader
	if req.body != nil {
		body = strings.NewReader(string(req.body))
	}
	httpReq, err := http.NewRequest(method, s.URL+req.path, body)
	if err != nil {
		t.Fatalf("%s: %v", req.name, err)
	}
	if req.contentType != "" {
		httpReq.Header.Set("Content-Type", req.contentType)
	}
	for k, v := range req.headers {
		httpReq.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(httpReq)
	if err != nil {
		t.Fatalf("%s: %v", req.name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// checkRefused fails unless r is a 4xx in the error shape. With
// mayIgnore, a 2xx passes too.
func checkRefused(t *testing.T, what string, r response, mayIgnore bool) {
	t.Helper()
	switch {
	case r.Status >= 500:
		t.Errorf("%s: status %d %s, want a 4xx", what, r.Status, r.Raw)
	case r.Status < 400 && mayIgnore:
	case r.Status < 400:
		t.Errorf("%s: status %d %s, want the bad input refused with a 4xx", what, r.Status, r.Raw)
	case r.errorCode() == "" || r.str("error.message") == "" || r.str("error.request_id") == "":
		t.Errorf("%s: status %d without the error shape: %s", what, r.Status, r.Raw)
	}
}

// TestBadInput_EveryRoute sends malformed bodies, path parameters, query
// strings and headers to every route that reads them, and checks that each
// gets a 4xx with an error code, and that none stores anything.
func TestBadInput_EveryRoute(t *testing.T) {
	a, b, c := newEnterprise("广州市坏输入甲有限公司"), newEnterprise("深圳市坏输入乙有限公司"), newEnterprise("佛山市坏输入丙有限公司")
	s := newEnterpriseStack(t, models.SQLite, a, b, c)
	f := newAuthzFixture(t, s, a, b, c)
	checkInputRoutesCoverRoutes(t, s)

	// A wrong password for a well-formed login name counts towards its
	// lockout, which is stored by design.
	countedByDesign := map[string]bool{"login_attempts": true}
	before := tableRows(t, s)
	requests := 0

	for _, route := range bodyRoutes() {
		t.Run(route.route, func(t *testing.T) {
			method, _, _ := strings.Cut(route.route, " ")
			token := route.token(f)
			for _, req := range bodyRequests(t, route, f) {
				req.headers = map[string]string{}
				if token != "" {
					req.headers["Authorization"] = "Bearer " + token
				}
				if route.signed {
					ts := strconv.FormatInt(time.Now().Unix(), 10)
					req.headers[face.HeaderTimestamp] = ts
					req.headers[face.HeaderSignature] = face.Sign([]byte(s.Config.FaceCallbackSecret), ts, req.body)
				}
				requests++
				// Only a field of the right type, with a wrong value, may be acknowledged.
				wellFormed := strings.HasSuffix(req.name, "control characters") || strings.HasSuffix(req.name, " empty") ||
					strings.HasSuffix(req.name, "a very long string") || strings.HasSuffix(req.name, "an unknown field")
				checkRefused(t, req.name, sendRaw(t, s, method, req), route.acknowledges != "" && wellFormed)
			}
		})
	}

	for _, route := range pathRoutes() {
		t.Run(route.route, func(t *testing.T) {
			method, _, _ := strings.Cut(route.route, " ")
			headers := map[string]string{}
			if token := route.token(f); token != "" {
				headers["Authorization"] = "Bearer " + token
			}
			var reqs []badRequest
			if len(route.queries) == 0 {
				for _, p := range badParams {
					reqs = append(reqs, badRequest{name: "parameter " + p.name, path: route.path(f, p.raw), headers: headers})
				}
			}
			for _, req := range reqs {
				requests++
				checkRefused(t, req.name, sendRaw(t, s, method, req), false)
			}
			for _, q := range route.queries {
				requests++
				req := badRequest{name: "query " + q, path: route.path(f, "") + "?" + q, headers: headers}
				name, _, _ := strings.Cut(q, "=")
				checkRefused(t, req.name, sendRaw(t, s, method, req), !slices.Contains(route.reads, name))
			}
		})
	}

	t.Run("headers", func(t *testing.T) {
		for _, req := range badHeaderRequests(f) {
			requests++
			method, path, _ := strings.Cut(req.path, " ")
			req.path = path
			checkRefused(t, req.name, sendRaw(t, s, method, req), false)
		}
	})
	t.Logf("%d bad requests", requests)

	after := tableRows(t, s)
	for table, n := range after {
		if n != before[table] && !countedByDesign[table] {
			t.Errorf("table %s had %d rows before the bad requests and %d after", table, before[table], n)
		}
	}
	checkFixtureUnchanged(t, s, f)
	if r := call(t, http.MethodGet, s.URL+"/v1/face-logins/"+f.faceLoginID, nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("face login without its secret = %d, want 404", r.Status)
	}
	if v, err := s.App.Store.Verification(t.Context(), f.verificationID); err != nil || v.Status != models.VerificationPending {
		t.Errorf("the face verification is %+v (%v), want it pending", v, err)
	}
}

// badHeaderRequests are requests whose body is fine but a header is not.
// Their path holds the method first, as in "POST /v1/feedback".
func badHeaderRequests(f *authzFixture) []badRequest {
	feedback := []byte(`{"content":"页面打不开"}`)
	longKey := strings.Repeat("k", 256)
	return []badRequest{
		{name: "Idempotency-Key too long", path: "POST /v1/feedback", body: feedback, contentType: "application/json",
			headers: map[string]string{"Authorization": "Bearer " + f.tokens[otherPerson], "Idempotency-Key": longKey}},
		{name: "Idempotency-Key with a space", path: "POST /v1/feedback", body: feedback, contentType: "application/json",
			headers: map[string]string{"Authorization": "Bearer " + f.tokens[otherPerson], "Idempotency-Key": "a key"}},
		{name: "Idempotency-Key not ASCII", path: "POST /v1/feedback", body: feedback, contentType: "application/json",
			headers: map[string]string{"Authorization": "Bearer " + f.tokens[otherPerson], "Idempotency-Key": "键"}},
		{name: "Authorization without a scheme", path: "POST /v1/feedback", body: feedback, contentType: "application/json",
			headers: map[string]string{"Authorization": f.tokens[otherPerson]}},
		{name: "Authorization Basic", path: "POST /v1/feedback", body: feedback, contentType: "application/json",
			headers: map[string]string{"Authorization": "Basic " + f.tokens[otherPerson]}},
		{name: "Authorization with a very long token", path: "POST /v1/feedback", body: feedback, contentType: "application/json",
			headers: map[string]string{"Authorization": "Bearer " + strings.Repeat("t", 8000)}},
		{name: "Content-Type unparsable", path: "POST /v1/feedback", body: feedback, contentType: "application/json; charset",
			headers: map[string]string{"Authorization": "Bearer " + f.tokens[otherPerson]}},
		{name: "Content-Type JSON variant", path: "POST /v1/feedback", body: feedback, contentType: "application/json-patch+json",
			headers: map[string]string{"Authorization": "Bearer " + f.tokens[otherPerson]}},
		{name: "X-Client-Secret very long", path: "GET /v1/face-logins/" + f.faceLoginID,
			headers: map[string]string{"X-Client-Secret": strings.Repeat("s", 4000)}},
		{name: "X-Client-Secret of another login", path: "GET /v1/face-logins/" + f.faceLoginID,
			headers: map[string]string{"X-Client-Secret": secure.NewToken()}},
		{name: "callback timestamp not a number", path: "POST /v1/callbacks/face-verification", body: []byte(`{}`), contentType: "application/json",
			headers: map[string]string{face.HeaderTimestamp: "yesterday", face.HeaderSignature: strings.Repeat("0", 64)}},
		{name: "callback signature not hex", path: "POST /v1/callbacks/face-verification", body: []byte(`{}`), contentType: "application/json",
			headers: map[string]string{face.HeaderTimestamp: fmt.Sprint(time.Now().Unix()), face.HeaderSignature: "zz"}},
	}
}

// checkInputRoutesCoverRoutes fails on a route the suite sends nothing to.
// GET and DELETE routes without a path parameter or query read no input.
func checkInputRoutesCoverRoutes(t *testing.T, s *testenv.Stack) {
	t.Helper()
	covered := map[string]bool{}
	for _, r := range bodyRoutes() {
		covered[r.route] = true
	}
	for _, r := range pathRoutes() {
		route, _, _ := strings.Cut(r.route, "?")
		route, _, _ = strings.Cut(route, " (")
		covered[route] = true
	}
	readsNoInput := map[string]bool{
		"GET /healthz": true, "GET /readyz": true, "GET /openapi.yaml": true, "GET /metrics": true,
		"GET /v1/support/contacts": true, "GET /v1/me": true, "DELETE /v1/sessions/current": true,
	}
	for _, route := range appRoutes(t, s) {
		if !covered[route] && !readsNoInput[route] {
			t.Errorf("route %s gets no bad input: add it to the suite", route)
		}
	}
}
