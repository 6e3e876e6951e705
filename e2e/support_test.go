package e2e

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
)

func TestSupportContacts_ListHotlines(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite)
	r := call(t, http.MethodGet, s.URL+"/v1/support/contacts", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	contacts, _ := r.Body["contacts"].([]any)
	numbers := map[string]string{}
	for _, item := range contacts {
		contact, _ := item.(map[string]any)
		number, _ := contact["number"].(string)
		label, _ := contact["label"].(string)
		numbers[number] = label
	}
	if numbers["12345"] == "" {
		t.Errorf("contacts %s lack 12345 with a label", r.Raw)
	}
	if numbers["020-29859688"] == "" {
		t.Errorf("contacts %s lack 020-29859688 with a label", r.Raw)
	}
}

// feedbackItems returns the feedback array of a list response.
func feedbackItems(t *testing.T, r response) []map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("list feedback: status %d: %s", r.Status, r.Raw)
	}
	raw, _ := r.Body["feedback"].([]any)
	items := make([]map[string]any, 0, len(raw))
	for _, item := range raw {
		m, _ := item.(map[string]any)
		items = append(items, m)
	}
	return items
}

func findFeedback(items []map[string]any, id string) map[string]any {
	for _, item := range items {
		if item["id"] == id {
			return item
		}
	}
	return nil
}

func TestFeedback_StaffReplyShowsInHistory(t *testing.T) {
	s := testenv.NewStack(t, dev, models.Postgres)
	p := person{Name: "欧阳明轩", IDNumber: newPerson().IDNumber}
	token, _ := logIn(t, s, p)
	staff := bearer(s.Config.StaffToken)

	body := map[string]string{"content": "  经办人授权链接打不开\r\n请尽快处理  ", "contact": "13800138000"}
	headers := map[string]string{"Authorization": "Bearer " + token, "Idempotency-Key": "feedback-1"}
	created := call(t, http.MethodPost, s.URL+"/v1/feedback", body, headers)
	if created.Status != http.StatusCreated {
		t.Fatalf("create feedback: status %d: %s", created.Status, created.Raw)
	}
	id := created.str("id")
	if created.str("status") != "open" || created.str("content") != "经办人授权链接打不开\n请尽快处理" {
		t.Errorf("created = %s, want open with trimmed content and LF line break", created.Raw)
	}
	if retry := call(t, http.MethodPost, s.URL+"/v1/feedback", body, headers); retry.Status != http.StatusCreated || retry.str("id") != id {
		t.Errorf("retry with the same Idempotency-Key = %d id %q, want 201 with id %s", retry.Status, retry.str("id"), id)
	}

	queue := call(t, http.MethodGet, s.URL+"/v1/staff/feedback?status=open", nil, staff)
	item := findFeedback(feedbackItems(t, queue), id)
	if item == nil {
		t.Fatalf("open queue %s lacks feedback %s", queue.Raw, id)
	}
	if len(feedbackItems(t, queue)) != 1 {
		t.Errorf("open queue has %d entries, want 1: the retry must not create a second", len(feedbackItems(t, queue)))
	}
	reporter, _ := item["reporter"].(map[string]any)
	if reporter["name_masked"] != "欧阳**" {
		t.Errorf("reporter = %v, want name_masked 欧阳**", reporter)
	}
	if strings.Contains(string(queue.Raw), p.Name) || strings.Contains(string(queue.Raw), p.IDNumber) {
		t.Error("the staff listing shows the reporter's name or ID number")
	}
	if item["contact"] != "13800138000" {
		t.Errorf("contact = %v, want the number left to be called back", item["contact"])
	}

	// The person's own session token is no staff token.
	asUser := call(t, http.MethodPost, s.URL+"/v1/staff/feedback/"+id+"/replies", map[string]string{"content": "我自己回复"}, bearer(token))
	if asUser.Status != http.StatusUnauthorized {
		t.Fatalf("reply with a person's session = %d, want 401", asUser.Status)
	}
	if r := call(t, http.MethodGet, s.URL+"/v1/staff/feedback", nil, bearer(token)); r.Status != http.StatusUnauthorized {
		t.Errorf("staff listing with a person's session = %d, want 401", r.Status)
	}
	if r := call(t, http.MethodGet, s.URL+"/v1/staff/feedback", nil, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("staff listing without a token = %d, want 401", r.Status)
	}
	if r := call(t, http.MethodGet, s.URL+"/v1/staff/feedback", nil, bearer(s.Config.StaffToken+"x")); r.Status != http.StatusUnauthorized {
		t.Errorf("staff listing with a wrong token = %d, want 401", r.Status)
	}

	reply := call(t, http.MethodPost, s.URL+"/v1/staff/feedback/"+id+"/replies", map[string]string{"content": "您好，已为您重新发送授权链接。"}, staff)
	if reply.Status != http.StatusCreated || reply.str("feedback_id") != id {
		t.Fatalf("staff reply: status %d: %s", reply.Status, reply.Raw)
	}

	history := feedbackItems(t, call(t, http.MethodGet, s.URL+"/v1/feedback", nil, bearer(token)))
	mine := findFeedback(history, id)
	if mine == nil {
		t.Fatalf("history lacks feedback %s", id)
	}
	if mine["status"] != "replied" {
		t.Errorf("status in history = %v, want replied", mine["status"])
	}
	replies, _ := mine["replies"].([]any)
	if len(replies) != 1 {
		t.Fatalf("history shows %d replies, want 1: %v", len(replies), mine)
	}
	if first, _ := replies[0].(map[string]any); first["content"] != "您好，已为您重新发送授权链接。" {
		t.Errorf("reply in history = %v", first)
	}
	if len(history) != 1 {
		t.Errorf("history has %d entries, want 1", len(history))
	}

	if open := feedbackItems(t, call(t, http.MethodGet, s.URL+"/v1/staff/feedback?status=open", nil, staff)); findFeedback(open, id) != nil {
		t.Error("replied feedback is still in the open queue")
	}
	if replied := feedbackItems(t, call(t, http.MethodGet, s.URL+"/v1/staff/feedback?status=replied", nil, staff)); findFeedback(replied, id) == nil {
		t.Error("replied feedback is missing from status=replied")
	}

	other, _ := logIn(t, s, newPerson())
	if theirs := feedbackItems(t, call(t, http.MethodGet, s.URL+"/v1/feedback", nil, bearer(other))); len(theirs) != 0 {
		t.Errorf("another person's history has %d entries, want none", len(theirs))
	}
}

func TestFeedback_RejectsBadInput(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite)
	token, _ := logIn(t, s, newPerson())
	staff := bearer(s.Config.StaffToken)
	cases := []struct {
		name    string
		body    any
		headers map[string]string
		status  int
		code    string
	}{
		{"no session", map[string]string{"content": "你好"}, nil, 401, "UNAUTHENTICATED"},
		{"empty content", map[string]string{"content": ""}, bearer(token), 400, "INVALID_FEEDBACK_CONTENT"},
		{"only spaces", map[string]string{"content": " \n\t "}, bearer(token), 400, "INVALID_FEEDBACK_CONTENT"},
		{"2001 characters", map[string]string{"content": strings.Repeat("字", 2001)}, bearer(token), 400, "INVALID_FEEDBACK_CONTENT"},
		{"tab inside", map[string]string{"content": "前\t后"}, bearer(token), 400, "INVALID_FEEDBACK_CONTENT"},
		{"bell character", map[string]string{"content": "响\a铃"}, bearer(token), 400, "INVALID_FEEDBACK_CONTENT"},
		{"line break in contact", map[string]string{"content": "你好", "contact": "138\n0013"}, bearer(token), 400, "INVALID_CONTACT"},
		{"contact too long", map[string]string{"content": "你好", "contact": strings.Repeat("1", 65)}, bearer(token), 400, "INVALID_CONTACT"},
		{"unknown field", map[string]string{"content": "你好", "status": "replied"}, bearer(token), 400, "UNKNOWN_FIELD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, http.MethodPost, s.URL+"/v1/feedback", tc.body, tc.headers)
			if r.Status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.errorCode(), tc.status, tc.code)
			}
		})
	}
	t.Run("2000 characters accepted", func(t *testing.T) {
		r := call(t, http.MethodPost, s.URL+"/v1/feedback", map[string]string{"content": strings.Repeat("字", 2000)}, bearer(token))
		if r.Status != http.StatusCreated {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
	})
	t.Run("staff status filter", func(t *testing.T) {
		r := call(t, http.MethodGet, s.URL+"/v1/staff/feedback?status=closed", nil, staff)
		if r.Status != http.StatusBadRequest || r.errorCode() != "INVALID_STATUS_FILTER" {
			t.Errorf("got %d %s, want 400 INVALID_STATUS_FILTER", r.Status, r.errorCode())
		}
	})
	t.Run("staff bad cursor", func(t *testing.T) {
		r := call(t, http.MethodGet, s.URL+"/v1/staff/feedback?cursor=nonsense", nil, staff)
		if r.Status != http.StatusBadRequest || r.errorCode() != "INVALID_CURSOR" {
			t.Errorf("got %d %s, want 400 INVALID_CURSOR", r.Status, r.errorCode())
		}
	})
	t.Run("reply to unknown feedback", func(t *testing.T) {
		r := call(t, http.MethodPost, s.URL+"/v1/staff/feedback/0123456789abcdef0123456789abcdef/replies", map[string]string{"content": "您好"}, staff)
		if r.Status != http.StatusNotFound {
			t.Errorf("got %d, want 404", r.Status)
		}
	})
	t.Run("empty reply", func(t *testing.T) {
		created := call(t, http.MethodPost, s.URL+"/v1/feedback", map[string]string{"content": "你好"}, bearer(token))
		r := call(t, http.MethodPost, s.URL+"/v1/staff/feedback/"+created.str("id")+"/replies", map[string]string{"content": "  "}, staff)
		if r.Status != http.StatusBadRequest || r.errorCode() != "INVALID_FEEDBACK_CONTENT" {
			t.Errorf("got %d %s, want 400 INVALID_FEEDBACK_CONTENT", r.Status, r.errorCode())
		}
	})
	t.Run("English message", func(t *testing.T) {
		r := call(t, http.MethodPost, s.URL+"/v1/feedback", map[string]string{"content": ""}, map[string]string{"Authorization": "Bearer " + token, "Accept-Language": "en"})
		if !strings.Contains(r.str("error.message"), "2000") {
			t.Errorf("English message = %q", r.str("error.message"))
		}
	})
}

func TestFeedback_LimitPerPerson(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite, func(c *config.Config) {
		c.FeedbackLimitPerPerson = config.RateLimit{Count: 2, Window: time.Hour}
	})
	token, _ := logIn(t, s, newPerson())
	for i := 0; i < 2; i++ {
		if r := call(t, http.MethodPost, s.URL+"/v1/feedback", map[string]string{"content": "反馈"}, bearer(token)); r.Status != http.StatusCreated {
			t.Fatalf("feedback %d: status %d", i, r.Status)
		}
	}
	r := call(t, http.MethodPost, s.URL+"/v1/feedback", map[string]string{"content": "反馈"}, bearer(token))
	if r.Status != http.StatusTooManyRequests || r.errorCode() != "TOO_MANY_ATTEMPTS" {
		t.Errorf("third feedback = %d %s, want 429 TOO_MANY_ATTEMPTS", r.Status, r.errorCode())
	}
	other, _ := logIn(t, s, newPerson())
	if r := call(t, http.MethodPost, s.URL+"/v1/feedback", map[string]string{"content": "反馈"}, bearer(other)); r.Status != http.StatusCreated {
		t.Errorf("another person was limited too: status %d", r.Status)
	}
}

// codecBody is a Temporal codec-server request with one JSON payload.
func codecBody(data string) string {
	encoding := base64.StdEncoding.EncodeToString([]byte("json/plain"))
	return `{"payloads":[{"metadata":{"encoding":"` + encoding + `"},"data":"` + base64.StdEncoding.EncodeToString([]byte(data)) + `"}]}`
}

func TestCodec_RoundTripsForStaffOnly(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite)
	token, _ := logIn(t, s, newPerson())
	plain := `{"Name":"张伟","IDNumber":"440106199001011235"}`
	staff := bearer(s.Config.StaffToken)

	encoded := call(t, http.MethodPost, s.URL+"/codec/encode", codecBody(plain), staff)
	if encoded.Status != http.StatusOK {
		t.Fatalf("encode: status %d: %s", encoded.Status, encoded.Raw)
	}
	if strings.Contains(string(encoded.Raw), base64.StdEncoding.EncodeToString([]byte(plain))) {
		t.Fatal("the encoded payload still holds the plain data")
	}
	if !strings.Contains(string(encoded.Raw), base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))) {
		t.Errorf("the encoded payload is not marked binary/encrypted: %s", encoded.Raw)
	}

	decoded := call(t, http.MethodPost, s.URL+"/codec/decode", string(encoded.Raw), staff)
	if decoded.Status != http.StatusOK {
		t.Fatalf("decode: status %d: %s", decoded.Status, decoded.Raw)
	}
	if !strings.Contains(string(decoded.Raw), base64.StdEncoding.EncodeToString([]byte(plain))) {
		t.Errorf("decode did not restore the payload: %s", decoded.Raw)
	}

	refused := map[string]map[string]string{
		"no token":                   nil,
		"a person's session token":   bearer(token),
		"a wrong token":              bearer(s.Config.StaffToken[:len(s.Config.StaffToken)-1]),
		"a browser origin, no token": {"Origin": "http://127.0.0.1:8233"},
	}
	for name, headers := range refused {
		for _, path := range []string{"/codec/encode", "/codec/decode"} {
			if r := call(t, http.MethodPost, s.URL+path, string(encoded.Raw), headers); r.Status != http.StatusUnauthorized {
				t.Errorf("%s with %s = %d, want 401", path, name, r.Status)
			}
		}
	}
}
