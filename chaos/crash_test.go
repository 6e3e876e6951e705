//go:build chaos

package chaos

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/worker"
	"github.com/gdyst/accountflows/workflows"
)

// crashBoundaries are the activities of the face-login and agent-invitation
// workflows, named as the crash switch names its markers. Killing the
// worker right after each of them covers every activity boundary of both.
var crashBoundaries = []string{
	"FaceLogin.BeginFaceLogin",
	"FaceLogin.CheckVerification",
	"FaceLogin.FinishFaceLogin",
	"AgentInvitation.CreateInvitation",
	"AgentInvitation.BeginVerification",
	"AgentInvitation.CheckVerification",
	"AgentInvitation.RecordInvitationFailure",
	"AgentInvitation.AcceptInvitation",
	"AgentInvitation.EndInvitation",
	"AgentInvitation.ExpireVerification",
}

// flowTimeout bounds how long one flow may take under crashes. Each crash
// after a regular activity costs up to its 30 s start-to-close timeout
// before Temporal retries it, and a flow meets several.
const flowTimeout = 4 * time.Minute

// flowGroup runs flows concurrently and collects their errors.
type flowGroup struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (g *flowGroup) run(name string, flow func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := flow(); err != nil {
			g.mu.Lock()
			g.errs = append(g.errs, fmt.Errorf("%s: %w", name, err))
			g.mu.Unlock()
		}
	}()
}

// wait waits for every flow and fails the test with each error.
func (g *flowGroup) wait(t *testing.T) {
	t.Helper()
	g.wg.Wait()
	for _, err := range g.errs {
		t.Error(err)
	}
	if len(g.errs) > 0 {
		t.FailNow()
	}
}

// loginFlow drives a face login to the sandbox outcome and checks that it
// ends as want.
func loginFlow(api apiClient, outcome, want string, started *faceLogin) func() error {
	return func() error {
		l, err := api.startLogin(newPerson())
		if err != nil {
			return err
		}
		*started = l
		if err := api.decide(l.ProviderToken, outcome); err != nil {
			return err
		}
		r, err := api.waitForLogin(l, flowTimeout)
		if err != nil {
			return err
		}
		if r.str("status") != want {
			return fmt.Errorf("%w: the login ended as %s, want %s", errUnexpected, r, want)
		}
		return nil
	}
}

func TestCrash_WorkerKilledAtEveryActivityBoundary(t *testing.T) {
	t.Parallel()
	started := time.Now()
	d := newDeployment(t, testenv.PostgresURL(t))
	books := newLedger(t, d.databaseURL, "", d.temporal)

	// The legal representative's account is set up before the crashes.
	setupWorker := d.startWorker(t)
	repSession, accountID, err := d.api.certifiedAccount(d.enterprise)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setupWorker.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatal(err)
	}

	markers := t.TempDir()
	workers := superviseWorker(t, d.workerEnv(worker.EnvCrashAfter+"=*", worker.EnvCrashDir+"="+markers), 2*len(crashBoundaries))

	var (
		flows                      flowGroup
		passed, failed             faceLogin
		accepted, revoked, failed3 invitation
	)
	flows.run("login that passes", loginFlow(d.api, "pass", models.LoginSucceeded, &passed))
	flows.run("login that fails", loginFlow(d.api, "fail", models.LoginFailed, &failed))
	flows.run("invitation that is accepted", func() error {
		inv, err := d.api.invite(repSession, accountID, newPerson())
		if err != nil {
			return err
		}
		accepted = inv
		return d.api.accept(inv, flowTimeout)
	})
	flows.run("invitation revoked with a verification open", func() error {
		inv, err := d.api.invite(repSession, accountID, newPerson())
		if err != nil {
			return err
		}
		revoked = inv
		if _, err := d.api.startShareVerification(inv.ShareToken); err != nil {
			return err
		}
		return d.api.revoke(repSession, inv)
	})
	flows.run("invitation whose verification fails three times", func() error {
		inv, err := d.api.invite(repSession, accountID, newPerson())
		if err != nil {
			return err
		}
		failed3 = inv
		for i := 1; i <= 3; i++ {
			v, err := d.api.startShareVerification(inv.ShareToken)
			if err != nil {
				return err
			}
			if err := d.api.decide(v.ProviderToken, "fail"); err != nil {
				return err
			}
			err = eventually(flowTimeout, 250*time.Millisecond, fmt.Sprintf("failure %d to be recorded", i), func() (bool, error) {
				n, err := books.tryCount("SELECT count(*) FROM agent_invitations WHERE id = ? AND failed_verifications >= ?", inv.ID, i)
				return n == 1, err
			})
			if err != nil {
				return err
			}
		}
		return d.api.waitForShare(inv.ShareToken, models.InvitationFailed, flowTimeout)
	})
	flows.wait(t)

	books.login(passed, models.LoginSucceeded)
	books.login(failed, models.LoginFailed)
	books.personSessions()
	books.invitation(accountID, accepted, models.InvitationAccepted, 0)
	books.invitation(accountID, revoked, models.InvitationRevoked, 0)
	books.invitation(accountID, failed3, models.InvitationFailed, 3)

	crashed := readMarkers(t, markers)
	for _, boundary := range crashBoundaries {
		if !crashed[boundary] {
			t.Errorf("the worker was never killed after %s", boundary)
		}
	}
	starts, kills, problems := workers.report()
	for _, p := range problems {
		t.Error(p)
	}
	if kills != len(crashed) {
		t.Errorf("%d workers were killed for %d crash markers, want one kill per marker", kills, len(crashed))
	}
	t.Logf("figures: 2 face logins, 3 agent invitations, %d crash boundaries, %d workers started, %d killed, %d requests sent again after a 503, %s",
		len(crashBoundaries), starts+1, kills, d.api.retried503.Load(), time.Since(started).Round(time.Second))
}

func TestCrash_FlowStartsSurviveRepeatedCrashes(t *testing.T) {
	t.Parallel()
	// Temporal rejects updates to a workflow whose task has failed three
	// times in a row, and from the fourth attempt on it waits longer and
	// longer before it retries the task. Three kills reach the first and
	// not the second.
	const crashes = 3
	started := time.Now()
	d := newDeployment(t, testenv.PostgresURL(t))
	books := newLedger(t, d.databaseURL, "", d.temporal)
	setupWorker := d.startWorker(t)
	repSession, accountID, err := d.api.certifiedAccount(d.enterprise)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setupWorker.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatal(err)
	}

	// Without a marker directory every worker crashes after the first
	// step, until the supervisor starts healthy ones.
	workers := superviseWorker(t, d.workerEnv(worker.EnvCrashAfter+"=FaceLogin.BeginFaceLogin,AgentInvitation.CreateInvitation"), crashes+2)
	workers.setEnvAfterKills(crashes, d.workerEnv())
	var (
		flows flowGroup
		login faceLogin
		inv   invitation
	)
	flows.run("face login", loginFlow(d.api, "pass", models.LoginSucceeded, &login))
	flows.run("agent invitation", func() error {
		var err error
		if inv, err = d.api.invite(repSession, accountID, newPerson()); err != nil {
			return err
		}
		return d.api.accept(inv, flowTimeout)
	})
	flows.wait(t)

	books.login(login, models.LoginSucceeded)
	books.invitation(accountID, inv, models.InvitationAccepted, 0)
	retries := strings.Count(d.apiProcess.output.String(), "workflow did not take its first update, retrying")
	starts, kills, problems := workers.report()
	for _, p := range problems {
		t.Error(p)
	}
	if kills != crashes {
		t.Errorf("%d workers crashed, want %d", kills, crashes)
	}
	t.Logf("figures: 1 face login and 1 agent invitation started while %d workers in a row crashed after their first step, %d workers started, %d update retries in the API, %s",
		kills, starts+1, retries, time.Since(started).Round(time.Second))
}

// readMarkers returns the crash boundaries the worker was killed at.
func readMarkers(t *testing.T, dir string) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	crashed := map[string]bool{}
	var listed []string
	for _, e := range entries {
		crashed[e.Name()] = true
		listed = append(listed, e.Name())
	}
	sort.Strings(listed)
	t.Logf("crash markers: %v", listed)
	return crashed
}

func TestCrash_WorkerKilledAtRandomUnderLoad(t *testing.T) {
	t.Parallel()
	const (
		logins      = 12
		invitations = 8
		kills       = 5
	)
	started := time.Now()
	d := newDeployment(t, testenv.PostgresURL(t))
	books := newLedger(t, d.databaseURL, "", d.temporal)
	workers := superviseWorker(t, d.workerEnv(), kills+1)
	repSession, accountID, err := d.api.certifiedAccount(d.enterprise)
	if err != nil {
		t.Fatal(err)
	}

	// Every sandbox decision wakes a flow, whose worker then runs its
	// activities within milliseconds. The killer aims at those moments,
	// because a kill while the worker is idle tests little.
	decisions := make(chan struct{}, logins+invitations)
	api := d.api
	api.onDecide = func() {
		select {
		case decisions <- struct{}{}:
		default:
		}
	}

	// The flows start spread over the time the kills happen in.
	const window = 12 * time.Second
	loadStart := time.Now()
	var flows flowGroup
	loginsStarted := make([]faceLogin, logins)
	for i := range logins {
		delay := randomDuration(0, window)
		flows.run(fmt.Sprintf("login %d", i+1), func() error {
			time.Sleep(delay)
			return loginFlow(api, "pass", models.LoginSucceeded, &loginsStarted[i])()
		})
	}
	invitationsMade := make([]invitation, invitations)
	for i := range invitations {
		delay := randomDuration(0, window)
		flows.run(fmt.Sprintf("invitation %d", i+1), func() error {
			time.Sleep(delay)
			inv, err := api.invite(repSession, accountID, newPerson())
			if err != nil {
				return err
			}
			invitationsMade[i] = inv
			return api.accept(inv, flowTimeout)
		})
	}

	// Each kill comes at a random moment of the window, right after the
	// next sandbox decision when there is one within 3 s. It only kills a
	// worker that has been up for a moment, so that no kill is lost
	// between two workers.
	moments := make([]time.Duration, kills)
	for i := range moments {
		moments[i] = randomDuration(time.Second, window)
	}
	slices.Sort(moments)
	var killTimes []string
	for _, moment := range moments {
		time.Sleep(time.Until(loadStart.Add(moment)))
		drain(decisions)
		select {
		case <-decisions:
			time.Sleep(randomDuration(0, 40*time.Millisecond))
		case <-time.After(3 * time.Second):
		}
		err := eventually(30*time.Second, 50*time.Millisecond, "a running worker to kill", func() (bool, error) {
			return workers.killRunning(300 * time.Millisecond), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		killTimes = append(killTimes, time.Since(loadStart).Round(100*time.Millisecond).String())
	}
	t.Logf("killed the worker at %v", killTimes)
	flows.wait(t)

	var workflowIDs []string
	for _, l := range loginsStarted {
		books.login(l, models.LoginSucceeded)
		workflowIDs = append(workflowIDs, workflows.FaceLoginID(l.ID))
	}
	books.personSessions()
	for _, inv := range invitationsMade {
		books.invitation(accountID, inv, models.InvitationAccepted, 0)
		workflowIDs = append(workflowIDs, workflows.AgentInvitationID(inv.ID))
	}
	starts, killed, problems := workers.report()
	for _, p := range problems {
		t.Error(p)
	}
	if killed != kills {
		t.Errorf("%d workers were killed, want %d", killed, kills)
	}
	t.Logf("figures: %d face logins, %d agent invitations, %d random kills, %d workers started, %d flows interrupted, %d requests sent again after a 503, %s",
		logins, invitations, killed, starts, books.interrupted(workflowIDs), api.retried503.Load(), time.Since(started).Round(time.Second))
}

// drain discards what the channel holds.
func drain(c chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// randomDuration returns a uniformly random duration in [from, to).
func randomDuration(from, to time.Duration) time.Duration {
	return from + rand.N(to-from)
}
