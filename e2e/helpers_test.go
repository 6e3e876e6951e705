package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/testenv"
)

// response is a decoded HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// str returns the string at a dotted path such as "verification.id".
func (r response) str(path string) string {
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

// errorCode returns error.code of an error response.
func (r response) errorCode() string { return r.str("error.code") }

// call sends a request with a JSON body (a string is sent as it is) and
// decodes a JSON response.
func call(t *testing.T, method, url string, body any, headers map[string]string) response {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: response is not a JSON object: %v: %s", method, url, err, raw)
		}
	}
	return out
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// person is a synthetic test person with a valid resident ID number.
type person struct {
	Name     string
	IDNumber string
}

var names = []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "欧阳明轩", "阿依古丽·买买提", "黄磊"}

// newPerson returns a synthetic person: never a real one.
func newPerson() person {
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	return person{Name: names[r.IntN(len(names))], IDNumber: identitytest.RandomResidentID(r)}
}

// faceLogin is a started face login.
type faceLogin struct {
	ID             string
	ClientSecret   string
	VerificationID string
	ProviderToken  string
}

func startFaceLogin(t *testing.T, s *testenv.Stack, p person) faceLogin {
	t.Helper()
	r := call(t, http.MethodPost, s.URL+"/v1/face-logins", map[string]string{"name": p.Name, "id_number": p.IDNumber}, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("start face login: status %d: %s", r.Status, r.Raw)
	}
	return faceLogin{
		ID:             r.str("id"),
		ClientSecret:   r.str("client_secret"),
		VerificationID: r.str("verification.id"),
		ProviderToken:  r.str("verification.provider_token"),
	}
}

// decide plays the person in the sandbox mini program.
func decide(t *testing.T, s *testenv.Stack, token string, decision map[string]string) {
	t.Helper()
	r := call(t, http.MethodPost, s.URL+"/sandbox/face/"+token, decision, nil)
	if r.Status != http.StatusNoContent {
		t.Fatalf("sandbox decision: status %d: %s", r.Status, r.Raw)
	}
}

// waitForLogin polls the login until it leaves pending and returns it.
func waitForLogin(t *testing.T, s *testenv.Stack, login faceLogin) response {
	t.Helper()
	var last response
	testenv.Eventually(t, 20*time.Second, "face login to finish", func() bool {
		last = call(t, http.MethodGet, s.URL+"/v1/face-logins/"+login.ID, nil, map[string]string{"X-Client-Secret": login.ClientSecret})
		return last.Status == http.StatusOK && last.str("status") != "pending"
	})
	return last
}

// logIn drives a face login through the sandbox and returns the session token and person id.
func logIn(t *testing.T, s *testenv.Stack, p person) (token, personID string) {
	t.Helper()
	login := startFaceLogin(t, s, p)
	decide(t, s, login.ProviderToken, map[string]string{"outcome": "pass"})
	r := waitForLogin(t, s, login)
	if r.str("status") != "succeeded" {
		t.Fatalf("face login ended %s (%s), want succeeded", r.str("status"), r.str("failure_code"))
	}
	return r.str("session.token"), r.str("person.id")
}
