package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gdyst/accountflows/codec"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/worker"
	"github.com/gdyst/accountflows/workflows"
)

func TestFaceLogin_SucceedsAndReusesPerson(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			s := testenv.NewStack(t, dev, dialect)
			p := newPerson()

			login := startFaceLogin(t, s, p)
			pending := call(t, http.MethodGet, s.URL+"/v1/face-logins/"+login.ID, nil, map[string]string{"X-Client-Secret": login.ClientSecret})
			if got := pending.str("status"); got != "pending" {
				t.Fatalf("status before verification = %q, want pending", got)
			}
			page := call(t, http.MethodGet, s.URL+"/sandbox/face/"+login.ProviderToken, nil, nil)
			if !strings.Contains(string(page.Raw), "通过") || strings.Contains(string(page.Raw), p.IDNumber) {
				t.Fatalf("sandbox page must offer 通过 and show only the masked ID number")
			}

			decide(t, s, login.ProviderToken, map[string]string{"outcome": "pass"})
			done := waitForLogin(t, s, login)
			if done.str("status") != "succeeded" {
				t.Fatalf("status = %q (%s), want succeeded", done.str("status"), done.str("failure_code"))
			}
			token, personID := done.str("session.token"), done.str("person.id")
			if len(token) < 22 {
				t.Fatalf("session token %q is shorter than 128 bits", token)
			}
			if done.str("person.name") != p.Name {
				t.Errorf("person.name = %q, want the person's own name", done.str("person.name"))
			}
			if want := p.IDNumber[:4] + "**********" + p.IDNumber[14:]; done.str("person.id_number_masked") != want {
				t.Errorf("id_number_masked = %q, want %q", done.str("person.id_number_masked"), want)
			}

			me := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(token))
			if me.Status != http.StatusOK || me.str("person.id") != personID || me.str("session.kind") != "person" {
				t.Fatalf("GET /v1/me = %d %s", me.Status, me.Raw)
			}

			_, secondID := logIn(t, s, p)
			if secondID != personID {
				t.Errorf("second login person id = %s, want the first login's %s", secondID, personID)
			}

			if r := call(t, http.MethodDelete, s.URL+"/v1/sessions/current", nil, bearer(token)); r.Status != http.StatusNoContent {
				t.Fatalf("logout status = %d", r.Status)
			}
			if r := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(token)); r.Status != http.StatusUnauthorized {
				t.Errorf("GET /v1/me after logout = %d, want 401", r.Status)
			}
		})
	}
}

func TestFaceLogin_FailureOutcomes(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite)
	someoneElse := newPerson()
	cases := []struct {
		name     string
		decision map[string]string
		want     string
	}{
		{"provider failure", map[string]string{"outcome": "fail"}, face.FailureSimilarity},
		{"user cancelled", map[string]string{"outcome": "cancel"}, face.FailureUserCancelled},
		{"someone else's face", map[string]string{"outcome": "pass", "verified_id_number": someoneElse.IDNumber}, face.FailureIdentityMismatch},
		{"someone else's name", map[string]string{"outcome": "pass", "verified_name": "赵某某"}, face.FailureIdentityMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			login := startFaceLogin(t, s, newPerson())
			decide(t, s, login.ProviderToken, tc.decision)
			done := waitForLogin(t, s, login)
			if done.str("status") != "failed" {
				t.Fatalf("status = %q, want failed", done.str("status"))
			}
			if done.str("failure_code") != tc.want {
				t.Errorf("failure_code = %q, want %q", done.str("failure_code"), tc.want)
			}
			if done.Body["session"] != nil {
				t.Errorf("a failed login returned a session")
			}
		})
	}
}

func TestFaceLogin_ExpiresWithoutVerification(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite, func(c *config.Config) { c.FaceVerificationTTL = 2 * time.Second })
	login := startFaceLogin(t, s, newPerson())
	done := waitForLogin(t, s, login)
	if done.str("status") != "expired" {
		t.Fatalf("status = %q, want expired", done.str("status"))
	}
	late := call(t, http.MethodPost, s.URL+"/sandbox/face/"+login.ProviderToken, map[string]string{"outcome": "pass"}, nil)
	if late.Status != http.StatusConflict {
		t.Errorf("sandbox decision after expiry = %d, want 409", late.Status)
	}
}

func TestFaceLogin_ReportWithoutCallback(t *testing.T) {
	// Point the sandbox's push at a closed port, so only the app's report
	// can wake the flow.
	s := testenv.NewStack(t, dev, models.SQLite, func(c *config.Config) { c.PublicURL = "http://127.0.0.1:1" })
	login := startFaceLogin(t, s, newPerson())
	decide(t, s, login.ProviderToken, map[string]string{"outcome": "pass"})
	r := call(t, http.MethodPost, s.URL+"/v1/face-verifications/"+login.VerificationID+"/report", nil, nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("report status = %d, want 202", r.Status)
	}
	if done := waitForLogin(t, s, login); done.str("status") != "succeeded" {
		t.Fatalf("status = %q, want succeeded", done.str("status"))
	}
	if r := call(t, http.MethodPost, s.URL+"/v1/face-verifications/"+login.VerificationID+"/report", nil, nil); r.Status != http.StatusAccepted {
		t.Errorf("second report status = %d, want 202", r.Status)
	}
	if r := call(t, http.MethodPost, s.URL+"/v1/face-verifications/0123456789abcdef0123456789abcdef/report", nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("report of an unknown verification = %d, want 404", r.Status)
	}
}

func signedCallback(t *testing.T, s *testenv.Stack, body string, at time.Time, secret string) response {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	return call(t, http.MethodPost, s.URL+"/v1/callbacks/face-verification", body, map[string]string{
		face.HeaderTimestamp: ts,
		face.HeaderSignature: face.Sign([]byte(secret), ts, []byte(body)),
	})
}

func TestFaceCallback_RejectsForgedAndStale(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite, func(c *config.Config) { c.PublicURL = "http://127.0.0.1:1" })
	login := startFaceLogin(t, s, newPerson())
	decide(t, s, login.ProviderToken, map[string]string{"outcome": "pass"})
	body := fmt.Sprintf(`{"provider_token":%q,"event":"verification.completed"}`, login.ProviderToken)
	secret := s.Config.FaceCallbackSecret

	if r := signedCallback(t, s, body, time.Now(), "not-the-secret-not-the-secret-xx"); r.Status != http.StatusUnauthorized || r.errorCode() != "INVALID_SIGNATURE" {
		t.Errorf("forged signature = %d %s, want 401 INVALID_SIGNATURE", r.Status, r.errorCode())
	}
	if r := signedCallback(t, s, body, time.Now().Add(-301*time.Second), secret); r.Status != http.StatusUnauthorized {
		t.Errorf("stale timestamp = %d, want 401", r.Status)
	}
	if r := signedCallback(t, s, body, time.Now().Add(301*time.Second), secret); r.Status != http.StatusUnauthorized {
		t.Errorf("future timestamp = %d, want 401", r.Status)
	}
	if r := call(t, http.MethodPost, s.URL+"/v1/callbacks/face-verification", body, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("unsigned callback = %d, want 401", r.Status)
	}
	pending := call(t, http.MethodGet, s.URL+"/v1/face-logins/"+login.ID, nil, map[string]string{"X-Client-Secret": login.ClientSecret})
	if pending.str("status") != "pending" {
		t.Fatalf("rejected callbacks changed the login to %q", pending.str("status"))
	}

	for i := 0; i < 3; i++ {
		if r := signedCallback(t, s, body, time.Now(), secret); r.Status != http.StatusOK {
			t.Fatalf("valid callback %d = %d %s", i, r.Status, r.Raw)
		}
	}
	if done := waitForLogin(t, s, login); done.str("status") != "succeeded" {
		t.Fatalf("status = %q, want succeeded", done.str("status"))
	}
	unknown := `{"provider_token":"unknown-token","event":"verification.completed"}`
	if r := signedCallback(t, s, unknown, time.Now(), secret); r.Status != http.StatusOK {
		t.Errorf("callback for an unknown token = %d, want 200 with no effect", r.Status)
	}
	if r := signedCallback(t, s, "{not json", time.Now(), secret); r.Status != http.StatusBadRequest {
		t.Errorf("signed malformed body = %d, want 400", r.Status)
	}
}

func TestFaceLogin_RejectsBadInput(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite)
	valid := identitytest.ResidentID("440106", time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), 123)
	wrongCheck := valid[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", valid[17])+1)%11])
	leapInvalid := identitytest.ResidentID("440106", time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), 123)
	leapInvalid = leapInvalid[:10] + "0229" + leapInvalid[14:17]
	leapInvalid += string(identitytest.CheckChar(leapInvalid))
	cases := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"wrong check character", `{"name":"张伟","id_number":"` + wrongCheck + `"}`, 400, "INVALID_ID_NUMBER"},
		{"impossible birth date", `{"name":"张伟","id_number":"` + leapInvalid + `"}`, 400, "INVALID_ID_NUMBER"},
		{"empty name", `{"name":"  ","id_number":"` + valid + `"}`, 400, "INVALID_NAME"},
		{"malformed JSON", `{"name":"张伟",`, 400, "INVALID_JSON"},
		{"unknown field", `{"name":"张伟","id_number":"` + valid + `","admin":true}`, 400, "UNKNOWN_FIELD"},
		{"wrong type", `{"name":42,"id_number":"` + valid + `"}`, 400, "INVALID_REQUEST"},
		{"unknown id_type", `{"name":"张伟","id_type":"passport","id_number":"` + valid + `"}`, 400, "INVALID_ID_TYPE"},
		{"travel permit", `{"name":"张伟","id_type":"hkmo_travel_permit","id_number":"H12345678"}`, 422, "FACE_VERIFICATION_UNSUPPORTED_DOCUMENT"},
		{"Taiwan travel permit", `{"name":"张伟","id_type":"tw_travel_permit","id_number":"12345678"}`, 422, "FACE_VERIFICATION_UNSUPPORTED_DOCUMENT"},
		{"two objects", `{"name":"张伟","id_number":"` + valid + `"}{}`, 400, "INVALID_JSON"},
		{"invalid UTF-8", "{\"name\":\"\xff\xfe\",\"id_number\":\"" + valid + "\"}", 400, "INVALID_JSON"},
		{"oversized body", `{"name":"` + strings.Repeat("张", 30000) + `","id_number":"` + valid + `"}`, 413, "REQUEST_TOO_LARGE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, http.MethodPost, s.URL+"/v1/face-logins", tc.body, nil)
			if r.Status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.errorCode(), tc.status, tc.code)
			}
			if r.str("error.message") == "" || r.str("error.request_id") == "" {
				t.Errorf("error lacks message or request_id: %s", r.Raw)
			}
		})
	}
	t.Run("lowercase x accepted", func(t *testing.T) {
		withX := ""
		for seq := 0; seq < 1000 && withX == ""; seq++ {
			if id := identitytest.ResidentID("440106", time.Date(1985, 6, 15, 0, 0, 0, 0, time.UTC), seq); id[17] == 'X' {
				withX = id
			}
		}
		login := startFaceLogin(t, s, person{Name: "王芳", IDNumber: strings.ToLower(withX)})
		decide(t, s, login.ProviderToken, map[string]string{"outcome": "pass"})
		done := waitForLogin(t, s, login)
		if done.str("status") != "succeeded" || !strings.HasSuffix(done.str("person.id_number_masked"), "X") {
			t.Fatalf("login with lowercase x = %s, masked %s", done.str("status"), done.str("person.id_number_masked"))
		}
	})
	t.Run("English message", func(t *testing.T) {
		r := call(t, http.MethodPost, s.URL+"/v1/face-logins", `{"name":"","id_number":"1"}`, map[string]string{"Accept-Language": "en-US,en;q=0.9"})
		if !strings.Contains(r.str("error.message"), "name") {
			t.Errorf("English message = %q", r.str("error.message"))
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		login := startFaceLogin(t, s, newPerson())
		for _, secret := range []string{"", "wrong", login.ClientSecret + "x"} {
			r := call(t, http.MethodGet, s.URL+"/v1/face-logins/"+login.ID, nil, map[string]string{"X-Client-Secret": secret})
			if r.Status != http.StatusNotFound {
				t.Errorf("secret %q: status %d, want 404", secret, r.Status)
			}
		}
	})
}

func TestFaceLogin_RateLimitPerIDNumber(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite, func(c *config.Config) {
		c.FaceLoginLimitPerID = config.RateLimit{Count: 2, Window: 10 * time.Minute}
	})
	p := newPerson()
	startFaceLogin(t, s, p)
	startFaceLogin(t, s, p)
	r := call(t, http.MethodPost, s.URL+"/v1/face-logins", map[string]string{"name": p.Name, "id_number": p.IDNumber}, nil)
	if r.Status != http.StatusTooManyRequests || r.errorCode() != "TOO_MANY_ATTEMPTS" {
		t.Fatalf("third start = %d %s, want 429 TOO_MANY_ATTEMPTS", r.Status, r.errorCode())
	}
	if other := startFaceLogin(t, s, newPerson()); other.ID == "" {
		t.Errorf("another person was limited too")
	}
}

func TestFaceLogin_RateLimitPerIP(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite, func(c *config.Config) {
		c.FaceLoginLimitPerIP = config.RateLimit{Count: 3, Window: time.Minute}
	})
	for i := 0; i < 3; i++ {
		startFaceLogin(t, s, newPerson())
	}
	p := newPerson()
	r := call(t, http.MethodPost, s.URL+"/v1/face-logins", map[string]string{"name": p.Name, "id_number": p.IDNumber}, nil)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("fourth start from one IP = %d, want 429", r.Status)
	}
}

func TestFaceLogin_IdempotencyKey(t *testing.T) {
	s := testenv.NewStack(t, dev, models.Postgres)
	p := newPerson()
	body := map[string]string{"name": p.Name, "id_number": p.IDNumber}
	key := map[string]string{"Idempotency-Key": "login-" + p.IDNumber[10:]}
	first := call(t, http.MethodPost, s.URL+"/v1/face-logins", body, key)
	second := call(t, http.MethodPost, s.URL+"/v1/face-logins", body, key)
	if first.Status != http.StatusCreated || second.Status != http.StatusCreated {
		t.Fatalf("statuses %d and %d, want 201 twice", first.Status, second.Status)
	}
	if first.str("id") != second.str("id") || first.str("client_secret") != second.str("client_secret") {
		t.Errorf("retry returned another login")
	}
	// 赵敏 is not among the names newPerson picks, so this body differs from the first.
	other := call(t, http.MethodPost, s.URL+"/v1/face-logins", map[string]string{"name": "赵敏", "id_number": p.IDNumber}, key)
	if other.Status != http.StatusUnprocessableEntity || other.errorCode() != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("same key, other body = %d %s, want 422 IDEMPOTENCY_KEY_REUSED", other.Status, other.errorCode())
	}
}

func TestFaceLogin_ConcurrentCallbacksGiveOneSession(t *testing.T) {
	s := testenv.NewStack(t, dev, models.Postgres, func(c *config.Config) { c.PublicURL = "http://127.0.0.1:1" })
	login := startFaceLogin(t, s, newPerson())
	decide(t, s, login.ProviderToken, map[string]string{"outcome": "pass"})
	body := fmt.Sprintf(`{"provider_token":%q,"event":"verification.completed"}`, login.ProviderToken)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				signedCallback(t, s, body, time.Now(), s.Config.FaceCallbackSecret)
			} else {
				call(t, http.MethodPost, s.URL+"/v1/face-verifications/"+login.VerificationID+"/report", nil, nil)
			}
		}()
	}
	wg.Wait()
	if done := waitForLogin(t, s, login); done.str("status") != "succeeded" {
		t.Fatalf("status = %q, want succeeded", done.str("status"))
	}
	var sessions int64
	if err := s.App.Store.DB().Model(&models.Session{}).Count(&sessions).Error; err != nil {
		t.Fatal(err)
	}
	if sessions != 1 {
		t.Errorf("%d sessions, want exactly 1", sessions)
	}
}

// TestFaceLogin_KeepsPersonalDataPrivate checks the log, the database and
// the Temporal history for the person's ID number and name in clear.
func TestFaceLogin_KeepsPersonalDataPrivate(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			s := testenv.NewStack(t, dev, dialect)
			p := person{Name: "欧阳明轩", IDNumber: identitytest.ResidentID("440106", time.Date(1979, 11, 30, 0, 0, 0, 0, time.UTC), 517)}
			login := startFaceLogin(t, s, p)
			decide(t, s, login.ProviderToken, map[string]string{"outcome": "pass"})
			done := waitForLogin(t, s, login)
			token := done.str("session.token")

			secrets := map[string]string{"ID number": p.IDNumber, "name": p.Name, "session token": token, "client secret": login.ClientSecret}
			for what, value := range secrets {
				if strings.Contains(s.Logs(), value) {
					t.Errorf("the log contains the %s", what)
				}
			}

			dump := dumpDatabase(t, s)
			for _, what := range []string{"ID number", "name", "session token", "client secret"} {
				if strings.Contains(dump, secrets[what]) {
					t.Errorf("the database contains the %s in clear", what)
				}
			}

			history := s.App.Temporal.GetWorkflowHistory(context.Background(), workflows.FaceLoginID(login.ID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			var raw strings.Builder
			for history.HasNext() {
				event, err := history.Next()
				if err != nil {
					t.Fatal(err)
				}
				raw.WriteString(event.String())
			}
			for what, value := range map[string]string{"ID number": p.IDNumber, "name": p.Name} {
				if strings.Contains(raw.String(), value) {
					t.Errorf("the Temporal history contains the %s in clear", what)
				}
			}
			if !strings.Contains(raw.String(), "binary/encrypted") {
				t.Errorf("the Temporal history has no encrypted payloads")
			}
		})
	}
}

// dumpDatabase returns every text and binary value of every table.
func dumpDatabase(t *testing.T, s *testenv.Stack) string {
	t.Helper()
	db := s.App.Store.DB()
	var tables []string
	query := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if s.App.Store.Dialect() == models.Postgres {
		query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
	}
	if err := db.Raw(query).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	for _, table := range tables {
		rows, err := db.Raw("SELECT * FROM " + table).Rows()
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			values := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range values {
				ptrs[i] = &values[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range values {
				fmt.Fprintf(&dump, "%s\n", v)
			}
		}
		rows.Close()
	}
	return dump.String()
}

// TestFaceLogin_HistoryReplays replays the history of a finished login
// against the current workflow code, which fails on nondeterminism.
func TestFaceLogin_HistoryReplays(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite, recordingKey)
	login := startFaceLogin(t, s, newPerson())
	decide(t, s, login.ProviderToken, map[string]string{"outcome": "pass"})
	waitForLogin(t, s, login)
	replayAndRecord(t, s, workflows.FaceLoginID(login.ID), "face_login_succeeded.json")
}

// recordingKey seals payloads under testenv.TestDataKey when
// YST_RECORD_HISTORY=1, so that recorded histories can be replayed later.
func recordingKey(c *config.Config) {
	if os.Getenv("YST_RECORD_HISTORY") == "1" {
		c.DataKey = testenv.TestDataKey
	}
}

// replayAndRecord waits for the workflow to close, replays its history
// against the current code and, with YST_RECORD_HISTORY=1, writes it to
// workflows/testdata/name for the replay test there.
func replayAndRecord(t *testing.T, s *testenv.Stack, workflowID, name string) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "workflow to close", func() bool {
		d, err := s.App.Temporal.DescribeWorkflow(context.Background(), workflowID, "")
		return err == nil && d.RawResponse.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{DataConverter: codec.DataConverter(s.App.Keys)})
	if err != nil {
		t.Fatal(err)
	}
	worker.RegisterWorkflows(replayer)
	err = replayer.ReplayWorkflowExecution(context.Background(), s.App.Temporal.WorkflowService(), testenv.QuietLogger{}, s.Config.TemporalNamespace,
		workflow.Execution{ID: workflowID})
	if err != nil {
		t.Fatalf("replay of %s failed: %v", workflowID, err)
	}
	if os.Getenv("YST_RECORD_HISTORY") == "1" {
		writeHistory(t, s, workflowID, filepath.Join(testenv.RepoRoot(), "workflows", "testdata", name))
	}
}

func writeHistory(t *testing.T, s *testenv.Stack, workflowID, path string) {
	t.Helper()
	iter := s.App.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var history historypb.History
	for iter.HasNext() {
		event, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		history.Events = append(history.Events, event)
	}
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&history)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
