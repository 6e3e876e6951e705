package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMetrics_LabelsByRoutePattern(t *testing.T) {
	e := newEcho(t)
	const token = "secret-provider-token-0123456789"
	for _, path := range []string{"/sandbox/face/" + token, "/no-such-path/" + token, "/healthz"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/healthz", nil))

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics status = %d, want 200", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`yst_http_requests_total{method="GET",route="/sandbox/face/:token",status="404"} 1`,
		`yst_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`yst_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`yst_http_request_duration_seconds_count{method="GET",route="/healthz"} 1`,
		`method="other"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %s", want)
		}
	}
	if strings.Contains(body, token) {
		t.Error("a token from a request path became a label value")
	}
	if strings.Contains(body, "BREW") {
		t.Error("a made-up HTTP method became a label value")
	}
}
