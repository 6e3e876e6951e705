//go:build chaos

package chaos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/registry"
)

// requestTimeout bounds every request a test sends. A request that takes
// longer counts as a hang.
const requestTimeout = 90 * time.Second

// apiClient sends requests to one yst API.
type apiClient struct {
	base string
	http *http.Client
	// onDecide, when set, is called after each sandbox decision.
	onDecide func()
	// retried503 counts the requests expectRetrying503 sent again.
	retried503 *atomic.Int64
}

func newAPIClient(base string) apiClient {
	return apiClient{base: base, http: &http.Client{Timeout: requestTimeout}, retried503: &atomic.Int64{}}
}

// reply is a decoded HTTP response.
type reply struct {
	Method, Path string
	Status       int
	Body         map[string]any
	Raw          []byte
	Sent         time.Time
	Elapsed      time.Duration
}

// str returns the string at a dotted path such as "verification.id".
func (r reply) str(path string) string {
	var cur any = r.Body
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[part]
	}
	s, _ := cur.(string)
	return s
}

func (r reply) code() string { return r.str("error.code") }

func (r reply) String() string {
	return fmt.Sprintf("%s %s: %d after %s: %s", r.Method, r.Path, r.Status, r.Elapsed.Round(time.Millisecond), bytes.TrimSpace(r.Raw))
}

// call sends a request with a JSON body and decodes a JSON response. The
// error is set only when no response arrived.
func (c apiClient) call(method, path string, body any, headers map[string]string) (reply, error) {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, reader)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}

	start := time.Now()
	out := reply{Method: method, Path: redactPath(path), Sent: start}
	resp, err := c.http.Do(req)
	out.Elapsed = time.Since(start)
	if err != nil {
		return out, fmt.Errorf("%s %s: no response after %s: %w", method, out.Path, out.Elapsed.Round(time.Millisecond), err)
	}
	defer resp.Body.Close()
	out.Raw, err = io.ReadAll(resp.Body)
	out.Elapsed = time.Since(start)
	if err != nil {
		return out, fmt.Errorf("%s %s: unable to read the response: %w", method, out.Path, err)
	}

	out.Status = resp.StatusCode
	if len(out.Raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
			return out, fmt.Errorf("%s %s: the response is not a JSON object: %w: %s", method, out.Path, err, out.Raw)
		}
	}
	return out, nil
}

// expect sends a request and returns an error unless the status is want.
func (c apiClient) expect(want int, method, path string, body any, headers map[string]string) (reply, error) {
	r, err := c.call(method, path, body, headers)
	if err != nil {
		return r, err
	}
	if r.Status != want {
		return r, fmt.Errorf("%w: %s, want %d", errUnexpected, r, want)
	}
	return r, nil
}

// unavailableRetries bounds how often expectRetrying503 sends a request.
const unavailableRetries = 5

var errRetriedThenConflict = errors.New("409 after a 503")

// expectRetrying503 is expect that sends the request again, up to
// unavailableRetries times 2 s apart, while it gets 503 SERVICE_UNAVAILABLE.
// A 409 after a 503 returns errRetriedThenConflict.
func (c apiClient) expectRetrying503(want int, method, path string, body any, headers map[string]string) (reply, error) {
	for attempt := 1; ; attempt++ {
		r, err := c.expect(want, method, path, body, headers)
		switch {
		case attempt > 1 && r.Status == http.StatusConflict:
			return r, fmt.Errorf("%w: %s", errRetriedThenConflict, r)
		case r.Status != http.StatusServiceUnavailable || r.code() != "SERVICE_UNAVAILABLE" || attempt == unavailableRetries:
			return r, err
		}
		c.retried503.Add(1)
		time.Sleep(2 * time.Second)
	}
}

// redactPath shortens tokens in a path, so that failure messages stay readable.
func redactPath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if len(p) > 40 {
			parts[i] = p[:8] + "…"
		}
	}
	return strings.Join(parts, "/")
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// person is a synthetic person with a valid resident ID number.
type person struct {
	Name     string
	IDNumber string
}

var names = []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "欧阳明轩", "黄磊", "周敏"}

func newPerson() person {
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	return person{Name: names[r.IntN(len(names))], IDNumber: identitytest.RandomResidentID(r)}
}

// enterprise is a synthetic registry entry with its legal representative.
type enterprise struct {
	USCC string
	Name string
	Rep  person
}

// writeRegistry writes a registry CSV holding one new active enterprise
// and returns its path and the enterprise.
func writeRegistry(t *testing.T, name string) (string, enterprise) {
	t.Helper()
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	e := enterprise{USCC: identitytest.RandomUSCC(r), Name: name, Rep: newPerson()}
	row := []string{e.USCC, e.Name, e.Rep.Name, string(identity.ResidentID), e.Rep.IDNumber, string(registry.StatusActive)}
	csv := strings.Join(registry.Header, ",") + "\n" + strings.Join(row, ",") + "\n"
	path := filepath.Join(t.TempDir(), "registry.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, e
}

// faceLogin is a started face login.
type faceLogin struct {
	ID             string
	ClientSecret   string
	VerificationID string
	ProviderToken  string
}

func (c apiClient) startLogin(p person) (faceLogin, error) {
	r, err := c.expect(http.StatusCreated, http.MethodPost, "/v1/face-logins", map[string]string{"name": p.Name, "id_number": p.IDNumber}, nil)
	if err != nil {
		return faceLogin{}, err
	}
	return faceLogin{
		ID:             r.str("id"),
		ClientSecret:   r.str("client_secret"),
		VerificationID: r.str("verification.id"),
		ProviderToken:  r.str("verification.provider_token"),
	}, nil
}

// decide plays the person in the sandbox mini program: outcome is pass,
// fail or cancel.
func (c apiClient) decide(providerToken, outcome string) error {
	_, err := c.expect(http.StatusNoContent, http.MethodPost, "/sandbox/face/"+providerToken, map[string]string{"outcome": outcome}, nil)
	if err == nil && c.onDecide != nil {
		c.onDecide()
	}
	return err
}

// report is what the app sends when the user returns from the mini program.
func (c apiClient) report(verificationID string) error {
	_, err := c.expect(http.StatusAccepted, http.MethodPost, "/v1/face-verifications/"+verificationID+"/report", nil, nil)
	return err
}

func (c apiClient) loginStatus(l faceLogin) (reply, error) {
	return c.expect(http.StatusOK, http.MethodGet, "/v1/face-logins/"+l.ID, nil, map[string]string{"X-Client-Secret": l.ClientSecret})
}

// waitForLogin polls the login until it leaves pending and returns the
// last status reply.
func (c apiClient) waitForLogin(l faceLogin, timeout time.Duration) (reply, error) {
	var last reply
	err := eventually(timeout, 200*time.Millisecond, "face login "+l.ID+" to end", func() (bool, error) {
		r, err := c.loginStatus(l)
		last = r
		return err == nil && r.str("status") != "pending", err
	})
	return last, err
}

// logIn drives a face login to success and returns the session token.
func (c apiClient) logIn(p person) (string, error) {
	l, err := c.startLogin(p)
	if err != nil {
		return "", err
	}
	if err := c.decide(l.ProviderToken, "pass"); err != nil {
		return "", err
	}
	r, err := c.waitForLogin(l, time.Minute)
	if err != nil {
		return "", err
	}
	if r.str("status") != "succeeded" {
		return "", fmt.Errorf("%w: face login ended as %s", errUnexpected, r)
	}
	return r.str("session.token"), nil
}

// certifiedAccount registers e with its legal representative and returns
// the representative's enterprise session and the account id.
func (c apiClient) certifiedAccount(e enterprise) (session, accountID string, err error) {
	token, err := c.logIn(e.Rep)
	if err != nil {
		return "", "", err
	}
	r, err := c.expect(http.StatusCreated, http.MethodPost, "/v1/enterprise-accounts", map[string]string{"uscc": e.USCC, "enterprise_name": e.Name}, bearer(token))
	if err != nil {
		return "", "", err
	}
	accountID = r.str("id")
	r, err = c.expect(http.StatusOK, http.MethodPost, "/v1/sessions/enterprise", map[string]string{"enterprise_account_id": accountID}, bearer(token))
	if err != nil {
		return "", "", err
	}
	return r.str("token"), accountID, nil
}

// invitation is a created agent invitation.
type invitation struct {
	ID         string
	ShareToken string
	Invitee    person
}

func (c apiClient) invite(session, accountID string, p person) (invitation, error) {
	r, err := c.expect(http.StatusCreated, http.MethodPost, "/v1/enterprise-accounts/"+accountID+"/agent-invitations",
		map[string]string{"name": p.Name, "id_number": p.IDNumber}, bearer(session))
	if err != nil {
		return invitation{}, err
	}
	return invitation{ID: r.str("id"), ShareToken: r.str("share_token"), Invitee: p}, nil
}

// shareVerification is a face verification started on a share link.
type shareVerification struct {
	ID            string
	ProviderToken string
}

// startShareVerification starts a face verification on a share link. Like
// the app, it sends the request again after a 503, which Temporal causes
// while the flow's workflow task keeps failing under crashes.
func (c apiClient) startShareVerification(shareToken string) (shareVerification, error) {
	r, err := c.expectRetrying503(http.StatusCreated, http.MethodPost, "/v1/shares/"+shareToken+"/face-verifications", nil, nil)
	if err != nil {
		return shareVerification{}, err
	}
	return shareVerification{ID: r.str("verification.id"), ProviderToken: r.str("verification.provider_token")}, nil
}

func (c apiClient) shareStatus(shareToken string) (string, error) {
	r, err := c.expect(http.StatusOK, http.MethodGet, "/v1/shares/"+shareToken, nil, nil)
	return r.str("status"), err
}

// waitForShare polls the share link until its status is want.
func (c apiClient) waitForShare(shareToken, want string, timeout time.Duration) error {
	var last string
	err := eventually(timeout, 200*time.Millisecond, "invitation to become "+want, func() (bool, error) {
		status, err := c.shareStatus(shareToken)
		last = status
		return err == nil && status == want, err
	})
	if err != nil {
		return fmt.Errorf("%w (last status %q)", err, last)
	}
	return nil
}

// accept drives an invitation to accepted: a verification on its share
// link, passed in the sandbox.
func (c apiClient) accept(inv invitation, timeout time.Duration) error {
	v, err := c.startShareVerification(inv.ShareToken)
	if err != nil {
		return err
	}
	if err := c.decide(v.ProviderToken, "pass"); err != nil {
		return err
	}
	return c.waitForShare(inv.ShareToken, "accepted", timeout)
}

// revoke revokes an invitation, sending the request again after a 503.
// A 409 INVITATION_NOT_PENDING after a 503 means that the first request
// revoked it, which the test checks in the database.
func (c apiClient) revoke(session string, inv invitation) error {
	r, err := c.expectRetrying503(http.StatusOK, http.MethodDelete, "/v1/agent-invitations/"+inv.ID, nil, bearer(session))
	if errors.Is(err, errRetriedThenConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.str("status") != "revoked" {
		return fmt.Errorf("%w: %s, want status revoked", errUnexpected, r)
	}
	return nil
}

// waitForReady polls /readyz until it returns want.
func (c apiClient) waitForReady(want int, timeout time.Duration) error {
	return eventually(timeout, 200*time.Millisecond, fmt.Sprintf("GET /readyz to return %d", want), func() (bool, error) {
		r, err := c.call(http.MethodGet, "/readyz", nil, nil)
		return err == nil && r.Status == want, err
	})
}

// finishLogin completes a pending login as the app does when the user
// returns: a pass in the sandbox first when decide is set, then the report.
func (c apiClient) finishLogin(l faceLogin, decide bool) error {
	if decide {
		if err := c.decide(l.ProviderToken, "pass"); err != nil {
			return err
		}
	}
	if err := c.report(l.VerificationID); err != nil {
		return err
	}
	r, err := c.waitForLogin(l, time.Minute)
	if err == nil && r.str("status") != "succeeded" {
		err = fmt.Errorf("%w: %s, want succeeded", errUnexpected, r)
	}
	return err
}

func mustStartLogin(t *testing.T, api apiClient) faceLogin {
	t.Helper()
	l, err := api.startLogin(newPerson())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustInvite(t *testing.T, api apiClient, session, accountID string) invitation {
	t.Helper()
	inv, err := api.invite(session, accountID, newPerson())
	if err != nil {
		t.Fatal(err)
	}
	return inv
}
