package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/api"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/face/sandbox"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// The route fuzz targets send arbitrary bytes through the real Echo app,
// over a real SQLite store and a Temporal client that never connects. A
// request that passes validation and reaches Temporal gets 503
// SERVICE_UNAVAILABLE here, because Temporal cannot be reached; that is the
// only 5xx the targets accept.

// Sample registry entries the harness registers accounts for. 林晓峰 is the
// legal representative of the first and not of the second.
const (
	certifiedUSCC   = "91440106MA59K0001A"
	uncertifiedUSCC = "91440300MA5FK0003K"
	harnessName     = "林晓峰"
	harnessIDNumber = "440106198503120111"
)

// routeHarness is the API over a scratch SQLite database, with sessions of
// every kind already in it.
type routeHarness struct {
	e   *echo.Echo
	cfg config.Config
	// personToken is 林晓峰's person session.
	personToken string
	// certifiedToken acts for certifiedAccount, where he is the applicant
	// and legal representative.
	certifiedToken   string
	certifiedAccount string
	// uncertifiedToken acts for uncertifiedAccount, where he is applicant and agent.
	uncertifiedToken   string
	uncertifiedAccount string
	staffToken         string
	feedbackID         string
}

// newRouteHarness builds the API with rate limits off, so that every
// request reaches the code under test.
func newRouteHarness(tb testing.TB, temporal client.Client) *routeHarness {
	tb.Helper()
	store := testenv.OpenStore(tb, models.SQLite)

	if temporal == nil {
		lazy, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: testenv.QuietLogger{}})
		if err != nil {
			tb.Fatal(err)
		}
		temporal = lazy
	}

	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	cfg.StaffToken = secure.NewToken()
	cfg.FaceCallbackSecret = secure.NewToken()
	cfg.FaceLoginLimitPerID = config.RateLimit{}
	cfg.FaceLoginLimitPerIP = config.RateLimit{}
	cfg.FeedbackLimitPerPerson = config.RateLimit{}

	sb := sandbox.New(store.DB(), store.Keys(), cfg.PublicURL, []byte(cfg.FaceCallbackSecret), zap.NewNop())
	reg, err := registry.Sample()
	if err != nil {
		tb.Fatal(err)
	}
	e, _, err := api.New(api.Deps{Config: cfg, Store: store, Temporal: temporal, Sandbox: sb, Registry: reg, Log: zap.NewNop()})
	if err != nil {
		tb.Fatal(err)
	}

	h := &routeHarness{e: e, cfg: cfg, staffToken: cfg.StaffToken}
	h.seed(tb, store, reg)
	return h
}

// seed stores 林晓峰's person session, his two accounts with an enterprise
// session each, and one piece of his feedback, as the flows would have.
func (h *routeHarness) seed(tb testing.TB, store *models.Store, reg registry.Registry) {
	tb.Helper()
	ctx := context.Background()
	expires := time.Now().Add(time.Hour).UTC()
	loginID := secure.NewID()
	err := store.CreateFaceLogin(ctx, models.NewFaceLogin{
		LoginID:           loginID,
		VerificationID:    secure.NewID(),
		WorkflowID:        workflows.FaceLoginID(loginID),
		Provider:          "sandbox",
		ProviderTokenHash: secure.HashToken(secure.NewToken()),
		ClientSecretHash:  secure.HashToken(secure.NewToken()),
		IDHash:            store.LookupHash("resident_id", harnessIDNumber),
		ExpiresAt:         expires,
	})
	if err != nil {
		tb.Fatal(err)
	}
	h.personToken = secure.NewToken()
	who := models.Identity{IDType: "resident_id", IDNumber: harnessIDNumber, Name: harnessName}
	personID, err := store.SucceedFaceLogin(ctx, loginID, who, secure.HashToken(h.personToken), expires)
	if err != nil {
		tb.Fatal(err)
	}
	parent, err := store.SessionByToken(ctx, secure.HashToken(h.personToken))
	if err != nil {
		tb.Fatal(err)
	}

	h.certifiedAccount, h.certifiedToken = h.accountWithSession(tb, store, reg, parent, certifiedUSCC)
	h.uncertifiedAccount, h.uncertifiedToken = h.accountWithSession(tb, store, reg, parent, uncertifiedUSCC)

	entry, err := store.CreateFeedback(ctx, models.NewFeedback{ID: secure.NewID(), PersonID: personID, Content: "扫码后页面空白"})
	if err != nil {
		tb.Fatal(err)
	}
	h.feedbackID = entry.ID
}

func (h *routeHarness) accountWithSession(tb testing.TB, store *models.Store, reg registry.Registry, parent models.Session, uscc string) (accountID, token string) {
	tb.Helper()
	ctx := context.Background()
	enterprise, err := reg.Lookup(ctx, uscc)
	if err != nil {
		tb.Fatal(err)
	}
	account, err := store.CreateEnterpriseAccount(ctx, parent.PersonID, enterprise.Name, enterprise)
	if err != nil {
		tb.Fatal(err)
	}
	token = secure.NewToken()
	if _, _, err := store.StartEnterpriseSession(ctx, parent, account.ID, secure.HashToken(token), parent.ExpiresAt); err != nil {
		tb.Fatal(err)
	}
	return account.ID, token
}

// serve sends one request to target, a path with an optional query,
// through the app and returns the recorder.
func (h *routeHarness) serve(method, target string, body []byte, headers map[string]string) *httptest.ResponseRecorder {
	u, err := url.Parse(target)
	if err != nil {
		panic("routeHarness.serve: invalid target " + target)
	}
	return h.serveURL(method, u, body, headers)
}

// serveURL is serve for a URL that url.Parse need not accept, such as one
// with a fuzzed query string.
func (h *routeHarness) serveURL(method string, u *url.URL, body []byte, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", nil)
	req.URL = u
	req.RequestURI = u.RequestURI()
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, req.WithContext(ctx))
	return rec
}

var errorCodeShape = regexp.MustCompile(`^[A-Z][A-Z_]*[A-Z]$`)

// checkResponse fails on a 5xx other than SERVICE_UNAVAILABLE and on an
// error response without the error shape.
func checkResponse(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code < 400 {
		return
	}
	var body struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: status %d with a body that is not the error shape: %v: %q", what, rec.Code, err, rec.Body.String())
	}
	if !errorCodeShape.MatchString(body.Error.Code) || body.Error.Message == "" || body.Error.RequestID == "" {
		t.Fatalf("%s: status %d with an incomplete error: %s", what, rec.Code, rec.Body.String())
	}
	if rec.Code >= 500 && !(rec.Code == http.StatusServiceUnavailable && body.Error.Code == "SERVICE_UNAVAILABLE") {
		t.Fatalf("%s: status %d %s, want a 4xx", what, rec.Code, body.Error.Code)
	}
}

// Seeds every body target starts from: JSON of the wrong shape, wrong
// types, numbers too large for any Go type, invalid UTF-8 and control
// characters.
var commonBodySeeds = []string{
	``,
	` `,
	`{}`,
	`null`,
	`[]`,
	`"text"`,
	`12345678901234567890123456789012345678901234567890`,
	`{"a":1}`,
	`{"x":1e999}`,
	"{\"x\":\"\xff\xfe\"}",
	"{\"x\":\"\u0000\u001b\"}",
	`{`,
	`{}{}`,
	`{"a":{"b":{"c":{"d":[[[[[[[[[[]]]]]]]]]]}}}}`,
}

// fuzzBody runs a fuzz target that posts arbitrary bodies to one route.
// headers picks the session for the harness that the target builds.
func fuzzBody(f *testing.F, method, path string, headers func(*routeHarness) map[string]string, seeds ...string) {
	for _, seed := range append(seeds, commonBodySeeds...) {
		f.Add([]byte(seed))
	}
	h := newRouteHarness(f, nil)
	target := strings.NewReplacer(
		":certified", h.certifiedAccount,
		":uncertified", h.uncertifiedAccount,
		":feedback", h.feedbackID,
	).Replace(path)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := h.serve(method, target, body, headers(h))
		checkResponse(t, method+" "+path, rec)
	})
}

func noSession(*routeHarness) map[string]string { return nil }

func personSession(h *routeHarness) map[string]string { return bearerHeader(h.personToken) }

func certifiedSession(h *routeHarness) map[string]string { return bearerHeader(h.certifiedToken) }

func uncertifiedSession(h *routeHarness) map[string]string {
	return bearerHeader(h.uncertifiedToken)
}

func staffSession(h *routeHarness) map[string]string { return bearerHeader(h.staffToken) }

func bearerHeader(token string) map[string]string {
	return map[string]string{echo.HeaderAuthorization: "Bearer " + token}
}

func FuzzStartFaceLoginBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/face-logins", noSession,
		`{"name":"张伟","id_number":"440106199001021230"}`,
		`{"name":"张伟","id_type":"residence_permit","id_number":"810000199209030748"}`,
		`{"name":"张伟","id_type":"hkmo_travel_permit","id_number":"H12345678"}`,
		`{"name":42,"id_number":"440106199001021230"}`,
		`{"name":"张伟","id_number":"440106199001021230","admin":true}`,
	)
}

func FuzzCreateEnterpriseAccountBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/enterprise-accounts", personSession,
		`{"uscc":"91440113MA59K0002H","enterprise_name":"广州市示例科技有限公司(番禺分公司)"}`,
		`{"uscc":"91440604MA4UK0004Q","enterprise_name":"佛山市演示制造有限公司"}`,
		`{"uscc":"91440106ma59k0001a","enterprise_name":"广州市示例科技有限公司"}`,
		`{"uscc":true,"enterprise_name":["x"]}`,
	)
}

func FuzzChooseEnterpriseBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/sessions/enterprise", personSession,
		`{"enterprise_account_id":"0123456789abcdef0123456789abcdef"}`,
		`{"enterprise_account_id":""}`,
		`{"enterprise_account_id":1}`,
	)
}

func FuzzSetCredentialsBody(f *testing.F) {
	fuzzBody(f, http.MethodPut, "/v1/enterprise-accounts/:certified/credentials", certifiedSession,
		`{"login_name":"gz-example","password":"a long enough password"}`,
		`{"login_name":"GZ-Example ","password":"ｆｕｌｌ－ｗｉｄｔｈ　ｐａｓｓ"}`,
		`{"login_name":"ab","password":"short"}`,
		`{"login_name":"gz-example","password":"aaaaaaaaaaaaaaaa"}`,
	)
}

func FuzzPasswordLoginBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/enterprise-logins", noSession,
		`{"login_name":"gz-example","password":"a long enough password"}`,
		`{"login_name":"","password":""}`,
		`{"login_name":"gz-example","password":null}`,
	)
}

func FuzzCreateInvitationBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/enterprise-accounts/:certified/agent-invitations", certifiedSession,
		`{"name":"王芳","id_number":"440106199001021230","mobile":"13800138000"}`,
		`{"name":"王芳","id_type":"tw_travel_permit","id_number":"12345678"}`,
		`{"name":"王芳","id_number":"440106199001021230","mobile":"+86 138"}`,
	)
}

func FuzzCreateCertificationRequestBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/enterprise-accounts/:uncertified/certification-requests", uncertifiedSession,
		`{"reason":"x"}`,
	)
}

func FuzzShareDecisionBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/shares/crq_"+strings.Repeat("a", 43)+"/decision", noSession,
		`{"decision":"agree"}`,
		`{"decision":"refuse"}`,
		`{"decision":"AGREE"}`,
	)
}

func FuzzCreateLinkRequestBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/account-link-requests", personSession,
		`{"login_name":"gz-example","uscc":"91440106MA59K0001A"}`,
		`{"login_name":" ","uscc":"91440106MA59K0001?"}`,
	)
}

func FuzzFeedbackBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/feedback", personSession,
		`{"content":"登录后看不到企业","contact":"13800138000"}`,
		`{"content":"第一行\r\n第二行"}`,
		"{\"content\":\"a\",\"contact\":\"a\\nb\"}",
	)
}

func FuzzStaffReplyBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/staff/feedback/:feedback/replies", staffSession,
		`{"content":"您好，已为您处理。"}`,
		`{"content":""}`,
	)
}

func FuzzSandboxDecisionBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/sandbox/face/"+strings.Repeat("b", 43), noSession,
		`{"outcome":"pass"}`,
		`{"outcome":"pass","verified_name":"张伟","verified_id_number":"440106199001021230"}`,
		`{"outcome":"maybe"}`,
	)
}

func FuzzCodecBody(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/codec/decode", staffSession,
		`{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"AAAA"}]}`,
		`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"e30="}]}`,
		`{"payloads":null}`,
	)
}

// FuzzFaceCallbackBody signs each body with the right secret, so that it
// gets past the signature check to the decoding.
func FuzzFaceCallbackBody(f *testing.F) {
	for _, seed := range append([]string{
		`{"provider_token":"unknown-token","event":"verification.completed"}`,
		`{"provider_token":"","event":""}`,
		`{"provider_token":7}`,
	}, commonBodySeeds...) {
		f.Add([]byte(seed))
	}
	h := newRouteHarness(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		headers := map[string]string{
			face.HeaderTimestamp: ts,
			face.HeaderSignature: face.Sign([]byte(h.cfg.FaceCallbackSecret), ts, body),
		}
		rec := h.serve(http.MethodPost, "/v1/callbacks/face-verification", body, headers)
		checkResponse(t, "signed callback", rec)
	})
}

// requestTargets are the routes FuzzRequestTarget sends to, with the path
// parameter replaced by the fuzzed segment and the session each needs to
// get past authentication.
var requestTargets = []struct {
	method, path string
	headers      func(*routeHarness) map[string]string
}{
	{http.MethodGet, "/v1/face-logins/{}", noSession},
	{http.MethodPost, "/v1/face-verifications/{}/report", noSession},
	{http.MethodGet, "/v1/enterprise-accounts/{}", personSession},
	{http.MethodGet, "/v1/enterprise-accounts/{}/audit-events", certifiedSession},
	{http.MethodGet, "/v1/enterprise-accounts/{}/agent-invitations", certifiedSession},
	{http.MethodGet, "/v1/enterprise-accounts/{}/agents", certifiedSession},
	{http.MethodDelete, "/v1/enterprise-accounts/:certified/agents/{}", certifiedSession},
	{http.MethodDelete, "/v1/agent-invitations/{}", certifiedSession},
	{http.MethodGet, "/v1/enterprise-accounts/{}/link-requests", certifiedSession},
	{http.MethodGet, "/v1/shares/{}", noSession},
	{http.MethodPost, "/v1/shares/{}/face-verifications", noSession},
	{http.MethodGet, "/v1/certification-requests/{}", uncertifiedSession},
	{http.MethodDelete, "/v1/certification-requests/{}", uncertifiedSession},
	{http.MethodGet, "/v1/account-link-requests/{}", personSession},
	{http.MethodDelete, "/v1/account-link-requests/{}", personSession},
	{http.MethodPost, "/v1/account-link-requests/{}/approve", certifiedSession},
	{http.MethodPost, "/v1/account-link-requests/{}/reject", certifiedSession},
	{http.MethodGet, "/sandbox/face/{}", noSession},
	{http.MethodGet, "/v1/session/authorization", certifiedSession},
	{http.MethodGet, "/v1/feedback", personSession},
	{http.MethodGet, "/v1/staff/feedback", staffSession},
	{http.MethodGet, "/v1/me", personSession},
}

// FuzzRequestTarget fuzzes what a request carries outside its body: the
// path parameter, the query string and the headers the API reads. The
// header value goes into Idempotency-Key, X-Client-Secret, Accept-Language
// and X-Yst-Timestamp at once.
func FuzzRequestTarget(f *testing.F) {
	for i := range requestTargets {
		f.Add(uint8(i), "0123456789abcdef0123456789abcdef", "status=pending&limit=20", "key-1")
		f.Add(uint8(i), "inv_"+strings.Repeat("x", 40), "requires=certified&cursor=abc", "")
		f.Add(uint8(i), "%ff\x00/..", "limit=99999999999999999999&status=%ff", "\xff")
	}
	h := newRouteHarness(f, nil)
	f.Fuzz(func(t *testing.T, route uint8, segment, query, header string) {
		target := requestTargets[int(route)%len(requestTargets)]
		path := strings.NewReplacer(
			":certified", h.certifiedAccount,
			"{}", url.PathEscape(segment),
		).Replace(target.path)
		u, err := url.Parse(path)
		if err != nil || !validHeaderValue(header) {
			t.Skip("a Go HTTP server rejects this request before any handler runs")
		}
		u.RawQuery = query
		headers := map[string]string{}
		for k, v := range target.headers(h) {
			headers[k] = v
		}
		if header != "" {
			for _, name := range []string{api.HeaderIdempotencyKey, api.HeaderClientSecret, "Accept-Language", face.HeaderTimestamp} {
				headers[name] = header
			}
		}
		var body []byte
		if target.method == http.MethodPost {
			body = []byte(`{}`)
		}
		rec := h.serveURL(target.method, u, body, headers)
		checkResponse(t, target.method+" "+target.path, rec)
	})
}

// validHeaderValue reports whether net/http would send and accept v as a
// header value: no control characters other than tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
