//go:build chaos

package chaos

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/workflows"
)

const (
	// outageLength is how long the database stays stopped.
	outageLength = 20 * time.Second
	// readBound bounds the response time of a request that only reads,
	// because with the database down the connection is refused at once.
	readBound = 10 * time.Second
	// startBound bounds the response time of POST /v1/face-logins. Its
	// first step, a local activity, retries the database for at most 30 s
	// (its schedule-to-close timeout) before the API returns 503.
	startBound = 40 * time.Second
	// outageInvitationTTL makes the invitations created just before the
	// outage expire during it, so that their timers fire and their
	// activities fail against the stopped database and retry.
	outageInvitationTTL = 12 * time.Second
)

// probe is one kind of request the load sends during the outage.
type probe struct {
	name    string
	method  string
	path    string
	headers map[string]string
	body    any
	// needsDatabase is set when the API needs the database to handle the
	// request, so that during the outage it must get 503.
	needsDatabase bool
}

// outageLoad sends probes and records every reply and transport error.
type outageLoad struct {
	api apiClient

	mu      sync.Mutex
	replies []probeReply
	errs    []error
}

type probeReply struct {
	probe probe
	reply
}

func (o *outageLoad) send(p probe) reply {
	r, err := o.api.call(p.method, p.path, p.body, p.headers)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.errs = append(o.errs, fmt.Errorf("%s: %w", p.name, err))
	} else {
		o.replies = append(o.replies, probeReply{probe: p, reply: r})
	}
	return r
}

func TestOutage_DatabaseStoppedUnderLoad(t *testing.T) {
	t.Parallel()
	const (
		loginsBefore      = 6
		invitationsBefore = 3
		maxProbes         = 600
	)
	testStart := time.Now()
	pg := startCluster(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL log:\n%s", pg.logTail())
		}
	})
	d := newDeployment(t, pg.url("yst"), fmt.Sprintf("YST_INVITATION_TTL=%s", outageInvitationTTL))
	books := newLedger(t, d.databaseURL, "", d.temporal)
	d.startWorker(t)
	repSession, accountID, err := d.api.certifiedAccount(d.enterprise)
	if err != nil {
		t.Fatal(err)
	}

	// Flows started before the outage. Half of the logins pass in the
	// sandbox right before the stop, and the app reports the user's
	// return, so their activities may meet the outage.
	before := make([]faceLogin, loginsBefore)
	for i := range before {
		if before[i], err = d.api.startLogin(newPerson()); err != nil {
			t.Fatal(err)
		}
	}
	invitations := make([]invitation, invitationsBefore)
	for i := range invitations {
		if invitations[i], err = d.api.invite(repSession, accountID, newPerson()); err != nil {
			t.Fatal(err)
		}
		if _, err := d.api.startShareVerification(invitations[i].ShareToken); err != nil {
			t.Fatal(err)
		}
	}
	// The load reads this login and passes it in the sandbox, which
	// succeeds once the database is back.
	probed, err := d.api.startLogin(newPerson())
	if err != nil {
		t.Fatal(err)
	}
	decided := map[string]bool{}
	for _, l := range before[:loginsBefore/2] {
		if err := d.api.decide(l.ProviderToken, "pass"); err != nil {
			t.Fatal(err)
		}
		if err := d.api.report(l.VerificationID); err != nil {
			t.Fatal(err)
		}
		decided[l.ID] = true
	}

	load := &outageLoad{api: d.api}
	probes := []probe{
		{name: "GET /healthz", method: http.MethodGet, path: "/healthz"},
		{name: "GET /readyz", method: http.MethodGet, path: "/readyz", needsDatabase: true},
		{name: "GET /v1/me", method: http.MethodGet, path: "/v1/me", headers: bearer(repSession), needsDatabase: true},
		{name: "GET /v1/face-logins/{id}", method: http.MethodGet, path: "/v1/face-logins/" + probed.ID,
			headers: map[string]string{"X-Client-Secret": probed.ClientSecret}, needsDatabase: true},
		{name: "GET /v1/shares/{token}", method: http.MethodGet, path: "/v1/shares/" + invitations[0].ShareToken, needsDatabase: true},
		{name: "GET agents", method: http.MethodGet, path: "/v1/enterprise-accounts/" + accountID + "/agents", headers: bearer(repSession), needsDatabase: true},
		{name: "POST report", method: http.MethodPost, path: "/v1/face-verifications/" + probed.VerificationID + "/report", needsDatabase: true},
		{name: "POST /sandbox/face/{token}", method: http.MethodPost, path: "/sandbox/face/" + probed.ProviderToken,
			body: map[string]string{"outcome": "pass"}, needsDatabase: true},
		{name: "POST agent-invitations", method: http.MethodPost, path: "/v1/enterprise-accounts/" + accountID + "/agent-invitations",
			headers: bearer(repSession), body: map[string]string{"name": "张伟", "id_number": newPerson().IDNumber}, needsDatabase: true},
	}

	if err := pg.stop(); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	t.Logf("database stopped %s after the invitations were created", stoppedAt.Sub(testStart).Round(100*time.Millisecond))

	// The load: two loops of reads and writes, and one face-login start
	// every 2 s, for the length of the outage and a few seconds after it.
	var (
		wg, starts sync.WaitGroup
		during     []faceLogin
		duringM    sync.Mutex
		sent       int
		sentM      sync.Mutex
	)
	loadEnd := stoppedAt.Add(outageLength + 5*time.Second)
	budget := func() bool {
		sentM.Lock()
		defer sentM.Unlock()
		if sent >= maxProbes || time.Now().After(loadEnd) {
			return false
		}
		sent++
		return true
	}
	for loop := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := loop; budget(); i++ {
				load.send(probes[i%len(probes)])
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for budget() {
			p := newPerson()
			start := probe{name: "POST /v1/face-logins", method: http.MethodPost, path: "/v1/face-logins",
				body: map[string]string{"name": p.Name, "id_number": p.IDNumber}, needsDatabase: true}
			sendAt := time.Now()
			starts.Add(1)
			go func() {
				defer starts.Done()
				r := load.send(start)
				if r.Status == http.StatusCreated {
					duringM.Lock()
					during = append(during, faceLogin{ID: r.str("id"), ClientSecret: r.str("client_secret"),
						VerificationID: r.str("verification.id"), ProviderToken: r.str("verification.provider_token")})
					duringM.Unlock()
				}
			}()
			time.Sleep(time.Until(sendAt.Add(2 * time.Second)))
		}
	}()

	time.Sleep(time.Until(stoppedAt.Add(outageLength)))
	restartAt := time.Now()
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	startedAt := time.Now()
	if err := d.api.waitForReady(http.StatusOK, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	readyAfter := time.Since(startedAt)
	wg.Wait()
	// Face-login starts sent near the end may still wait for their
	// answer, which the client's timeout bounds.
	starts.Wait()

	summary := checkOutageReplies(t, load, stoppedAt, restartAt)

	// Everything started before or during the outage ends once.
	var flows flowGroup
	for _, l := range before {
		flows.run("login started before the outage", func() error {
			if !decided[l.ID] {
				if err := d.api.decide(l.ProviderToken, "pass"); err != nil {
					return err
				}
			}
			r, err := d.api.waitForLogin(l, 2*time.Minute)
			if err == nil && r.str("status") != models.LoginSucceeded {
				err = fmt.Errorf("%w: %s", errUnexpected, r)
			}
			return err
		})
	}
	flows.run("login the load passed", func() error {
		// The load's own decision may have come after the outage.
		if err := d.api.decide(probed.ProviderToken, "pass"); err != nil && !strings.Contains(err.Error(), "VERIFICATION_ALREADY_DECIDED") {
			return err
		}
		if err := d.api.report(probed.VerificationID); err != nil {
			return err
		}
		r, err := d.api.waitForLogin(probed, 2*time.Minute)
		if err == nil && r.str("status") != models.LoginSucceeded {
			err = fmt.Errorf("%w: %s", errUnexpected, r)
		}
		return err
	})
	duringM.Lock()
	startedDuring := append([]faceLogin(nil), during...)
	duringM.Unlock()
	for _, l := range startedDuring {
		flows.run("login started during the outage", loginAfterStart(d.api, l))
	}
	for _, inv := range invitations {
		flows.run("invitation that expired during the outage", func() error {
			return d.api.waitForShare(inv.ShareToken, models.InvitationExpired, 2*time.Minute)
		})
	}
	flows.wait(t)

	for _, l := range append(append(before, probed), startedDuring...) {
		books.login(l, models.LoginSucceeded)
	}
	books.personSessions()
	retried := 0
	for _, inv := range invitations {
		books.invitation(accountID, inv, models.InvitationExpired, 0)
		if attempt, _ := books.interruptions(workflows.AgentInvitationID(inv.ID)); attempt > 1 {
			retried++
		}
	}
	if retried == 0 {
		t.Errorf("no activity of the %d invitations that expired during the outage was retried; the outage missed them", len(invitations))
	}
	t.Logf("figures: outage %s, %s; /readyz 200 again %s after the start; flows: %d logins started before, %d during (%d refused with 503), %d invitations expired during it, %d of them with retried activities; %s",
		startedAt.Sub(stoppedAt).Round(100*time.Millisecond), summary, readyAfter.Round(100*time.Millisecond),
		len(before)+1, len(startedDuring), summary.refusedStarts, len(invitations), retried, time.Since(testStart).Round(time.Second))
}

// loginAfterStart completes a login the API started during the outage.
func loginAfterStart(api apiClient, l faceLogin) func() error {
	return func() error {
		if err := api.decide(l.ProviderToken, "pass"); err != nil {
			return err
		}
		r, err := api.waitForLogin(l, 2*time.Minute)
		if err == nil && r.str("status") != models.LoginSucceeded {
			err = fmt.Errorf("%w: %s", errUnexpected, r)
		}
		return err
	}
}

// outageSummary counts the replies of the load.
type outageSummary struct {
	requests      int
	byStatus      map[int]int
	refusedStarts int
	slowest       time.Duration
}

func (s outageSummary) String() string {
	statuses := make([]int, 0, len(s.byStatus))
	for status := range s.byStatus {
		statuses = append(statuses, status)
	}
	sort.Ints(statuses)
	parts := make([]string, 0, len(statuses))
	for _, status := range statuses {
		parts = append(parts, fmt.Sprintf("%d×%d", s.byStatus[status], status))
	}
	return fmt.Sprintf("%d requests (%s), slowest %s", s.requests, strings.Join(parts, " "), s.slowest.Round(100*time.Millisecond))
}

// checkOutageReplies applies the outage contract to every reply: no 5xx
// other than 503 SERVICE_UNAVAILABLE, no answer slower than its bound,
// and 503 for each request that needs the database and was sent and
// answered while it was down.
func checkOutageReplies(t *testing.T, load *outageLoad, stoppedAt, restartAt time.Time) outageSummary {
	t.Helper()
	load.mu.Lock()
	defer load.mu.Unlock()
	for _, err := range load.errs {
		t.Errorf("during the outage: %v", err)
	}
	summary := outageSummary{byStatus: map[int]int{}}
	readyDown := false
	for _, r := range load.replies {
		summary.requests++
		summary.byStatus[r.Status]++
		summary.slowest = max(summary.slowest, r.Elapsed)
		isStart := r.probe.name == "POST /v1/face-logins"
		if isStart && r.Status == http.StatusServiceUnavailable {
			summary.refusedStarts++
		}
		if r.Status >= 500 && (r.Status != http.StatusServiceUnavailable || (r.probe.path != "/readyz" && r.code() != "SERVICE_UNAVAILABLE")) {
			t.Errorf("%s: %s, want no 5xx other than 503 SERVICE_UNAVAILABLE", r.probe.name, r)
		}
		bound := readBound
		if isStart {
			bound = startBound
		}
		if r.Elapsed > bound {
			t.Errorf("%s: answered after %s, want within %s", r.probe.name, r.Elapsed.Round(time.Millisecond), bound)
		}
		answeredAt := r.Sent.Add(r.Elapsed)
		inOutage := r.Sent.After(stoppedAt) && answeredAt.Before(restartAt)
		if inOutage && r.probe.needsDatabase && !isStart && r.Status != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage: %s, want 503", r.probe.name, r)
		}
		if inOutage && !r.probe.needsDatabase && r.Status != http.StatusOK {
			t.Errorf("%s during the outage: %s, want 200", r.probe.name, r)
		}
		if inOutage && r.probe.path == "/readyz" && r.Status == http.StatusServiceUnavailable {
			readyDown = true
		}
	}
	if !readyDown {
		t.Error("GET /readyz never returned 503 while the database was down")
	}
	return summary
}
