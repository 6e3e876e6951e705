package e2e

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/app"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
)

func TestStop_FinishesRequestInFlight(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite)
	login := startFaceLogin(t, s, newPerson())

	addr := strings.TrimPrefix(s.URL, "http://")
	slow := testenv.StartSlowRequest(t, addr, http.MethodPost, "/sandbox/face/"+login.ProviderToken, []byte(`{"outcome":"pass"}`))
	// Give the server time to accept the connection; an accepted connection
	// counts as in flight even before its headers are read.
	time.Sleep(300 * time.Millisecond)

	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a request was still in flight", err)
	case <-time.After(500 * time.Millisecond):
	}

	status, err := slow.Finish()
	if err != nil {
		t.Fatalf("request in flight during shutdown: %v", err)
	}
	if status != http.StatusNoContent {
		t.Errorf("request in flight during shutdown: status %d, want 204", status)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Stop: %v", err)
		}
	case <-time.After(app.ShutdownTimeout):
		t.Fatalf("the stack did not stop within %s", app.ShutdownTimeout)
	}
	if elapsed := time.Since(start); elapsed >= app.ShutdownTimeout {
		t.Errorf("stop took %s, want less than %s", elapsed, app.ShutdownTimeout)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Error("the API still accepts connections after Stop")
	}
}

func TestStop_PendingLoginFinishesAfterRestart(t *testing.T) {
	first := testenv.NewStack(t, dev, models.Postgres)
	p := newPerson()
	login := startFaceLogin(t, first, p)
	if err := first.Stop(); err != nil {
		t.Fatalf("stop the first stack: %v", err)
	}

	// A new API and worker on the same database and task queue, as after a
	// redeploy. The sandbox's callback still names the stopped API, so the
	// app's report is what wakes the flow.
	second := testenv.NewStack(t, dev, models.Postgres, first.Sharing())
	decide(t, second, login.ProviderToken, map[string]string{"outcome": "pass"})
	report := call(t, http.MethodPost, second.URL+"/v1/face-verifications/"+login.VerificationID+"/report", nil, nil)
	if report.Status != http.StatusAccepted {
		t.Fatalf("report: status %d: %s", report.Status, report.Raw)
	}
	done := waitForLogin(t, second, login)
	if done.str("status") != "succeeded" {
		t.Fatalf("status after restart = %q (%s), want succeeded", done.str("status"), done.str("failure_code"))
	}
	if done.str("person.name") != p.Name {
		t.Errorf("person.name = %q, want %q", done.str("person.name"), p.Name)
	}
}
