package api

import (
	"net/http"
	"testing"
)

func TestSetErrorHeaders_UnauthorizedAndTooMany(t *testing.T) {
	h := http.Header{}
	setErrorHeaders(h, CodeUnauthenticated, http.StatusUnauthorized)
	if got := h.Get("WWW-Authenticate"); got != `Bearer realm="yst"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	h = http.Header{}
	setErrorHeaders(h, CodeLoginLocked, http.StatusTooManyRequests)
	if got := h.Get("Retry-After"); got != "900" {
		t.Errorf("Retry-After after a lockout = %q, want 900", got)
	}
	h = http.Header{}
	setErrorHeaders(h, CodeTooManyAttempts, http.StatusTooManyRequests)
	if got := h.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After = %q, want 60", got)
	}
	h = http.Header{}
	setErrorHeaders(h, CodeNotFound, http.StatusNotFound)
	if len(h) != 0 {
		t.Errorf("a 404 got headers %v", h)
	}
}

func TestCatalog_EveryCodeHasBothMessages(t *testing.T) {
	for code, e := range catalog {
		if e.zh == "" || e.en == "" || e.status < 400 {
			t.Errorf("%s: status %d, zh %q, en %q", code, e.status, e.zh, e.en)
		}
	}
}
