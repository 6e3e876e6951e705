package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gdyst/accountflows/api"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// stalledTemporal is a Temporal client whose update-with-start waits until
// the request's context ends, as a call to an overloaded cluster does.
type stalledTemporal struct{ client.Client }

func (stalledTemporal) UpdateWithStartWorkflow(ctx context.Context, _ client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// vanishingClientTemporal is a Temporal client whose update-with-start
// succeeds and then ends the request's context, as when the client
// disconnects just before the response is written.
type vanishingClientTemporal struct {
	client.Client
	disconnect context.CancelFunc
}

func (v vanishingClientTemporal) UpdateWithStartWorkflow(context.Context, client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return finishedUpdate{disconnect: v.disconnect}, nil
}

type finishedUpdate struct{ disconnect context.CancelFunc }

func (finishedUpdate) WorkflowID() string { return "face-login/test" }
func (finishedUpdate) RunID() string      { return "" }
func (finishedUpdate) UpdateID() string   { return "" }

func (u finishedUpdate) Get(_ context.Context, out any) error {
	if v, ok := out.(*workflows.Verification); ok {
		*v = workflows.Verification{ID: secure.NewID(), ProviderToken: "token", LaunchURL: "https://example.invalid/", ExpiresAt: time.Now().Add(time.Minute)}
	}
	u.disconnect()
	return nil
}

// TestIdempotency_StoresResponseAfterDisconnect: when a request succeeded
// but its client went away before the response arrived, a retry with the
// same key must get the stored response with the same login, neither a new
// login nor IDEMPOTENCY_KEY_IN_USE.
func TestIdempotency_StoresResponseAfterDisconnect(t *testing.T) {
	lazy, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: testenv.QuietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, disconnect := context.WithCancel(context.Background())
	h := newRouteHarness(t, vanishingClientTemporal{Client: lazy, disconnect: disconnect})
	body := `{"name":"张伟","id_number":"440106199001021230"}`
	send := func(ctx context.Context) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/face-logins", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(api.HeaderIdempotencyKey, "disconnected-login-1")
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, req)
		return rec
	}

	first := send(ctx)
	if first.Code != http.StatusCreated {
		t.Fatalf("first request = %d %s, want 201", first.Code, first.Body)
	}
	retry := send(context.Background())
	if retry.Code != http.StatusCreated || retry.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry = %d %s, want the stored 201", retry.Code, retry.Body)
	}
	if retry.Body.String() != first.Body.String() {
		t.Errorf("retry body = %s, want the first response %s", retry.Body, first.Body)
	}
}

// TestIdempotency_KeyFreeAfterCancelledRequest: a client that gives up on a
// request, so that the request's context ends, must be able to retry with
// the same key rather than get IDEMPOTENCY_KEY_IN_USE until the key expires.
func TestIdempotency_KeyFreeAfterCancelledRequest(t *testing.T) {
	lazy, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: testenv.QuietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	h := newRouteHarness(t, stalledTemporal{lazy})
	body := `{"name":"张伟","id_number":"440106199001021230"}`

	send := func() (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/face-logins", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(api.HeaderIdempotencyKey, "cancelled-login-1")
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, req)
		var out struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out.Error.Code
	}

	if status, code := send(); status != http.StatusServiceUnavailable {
		t.Fatalf("first request = %d %s, want 503 while Temporal does not respond", status, code)
	}
	if status, code := send(); status != http.StatusServiceUnavailable || code != "SERVICE_UNAVAILABLE" {
		t.Errorf("retry with the same key = %d %s, want it to run again (503 SERVICE_UNAVAILABLE)", status, code)
	}
}
