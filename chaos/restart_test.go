//go:build chaos

package chaos

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
)

// devStack is one data directory that yst dev is started on and stopped
// again, as a developer does with make run and Ctrl-C.
type devStack struct {
	t          *testing.T
	dataDir    string
	temporal   string
	env        []string
	api        apiClient
	enterprise enterprise
	starts     int
	timings    []string
}

func newDevStack(t *testing.T) *devStack {
	t.Helper()
	cli, err := testenv.TemporalCLI()
	if err != nil {
		t.Fatal(err)
	}
	registryFile, e := writeRegistry(t, "广州市重启测试科技有限公司")
	apiAddr := freeAddr(t)
	temporalPort := freePort(t)
	s := &devStack{
		t:          t,
		dataDir:    t.TempDir(),
		temporal:   "127.0.0.1:" + strconv.Itoa(temporalPort),
		api:        newAPIClient("http://" + apiAddr),
		enterprise: e,
	}
	s.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"YST_DATA_DIR=" + s.dataDir,
		"YST_HTTP_ADDR=" + apiAddr,
		"YST_DEV_TEMPORAL_PORT=" + strconv.Itoa(temporalPort),
		"YST_DEV_TEMPORAL_UI_PORT=" + strconv.Itoa(freePort(t)),
		"YST_TEMPORAL_CLI=" + cli,
		"YST_REGISTRY_FILE=" + registryFile,
		"YST_FACE_LOGIN_LIMIT_PER_ID=off",
		"YST_FACE_LOGIN_LIMIT_PER_IP=off",
	}
	return s
}

// start runs yst dev with extra variables and waits until it is ready.
func (s *devStack) start(extraEnv ...string) *process {
	s.t.Helper()
	s.starts++
	begin := time.Now()
	p := startYst(s.t, fmt.Sprintf("yst dev %d", s.starts), append(append([]string(nil), s.env...), extraEnv...), "dev")
	s.t.Cleanup(func() { stopDevLeavingNothing(s.t, p) })
	if err := s.api.waitForReady(http.StatusOK, 2*time.Minute); err != nil {
		s.t.Fatal(err)
	}
	s.timings = append(s.timings, fmt.Sprintf("start %d: %s", s.starts, time.Since(begin).Round(100*time.Millisecond)))
	return p
}

// stop sends SIGINT, as Ctrl-C does, and checks that yst dev stops the
// API, the worker and its Temporal dev server and exits 0.
func (s *devStack) stop(p *process) {
	s.t.Helper()
	begin := time.Now()
	code, err := p.stop(os.Interrupt, time.Minute)
	if err != nil || code != 0 {
		s.t.Fatalf("yst dev after SIGINT: exit code %d, %v", code, err)
	}
	s.timings = append(s.timings, fmt.Sprintf("stop %d: %s", s.starts, time.Since(begin).Round(100*time.Millisecond)))
	for _, line := range []string{"api stopped", "worker stopped", "Temporal dev server stopped"} {
		if !strings.Contains(p.output.String(), line) {
			s.t.Errorf("yst dev %d did not log %q on SIGINT", s.starts, line)
		}
	}
}

// stopDevLeavingNothing ends a yst dev that a failed test left running,
// and the Temporal dev server it started in a process group of its own.
func stopDevLeavingNothing(t *testing.T, p *process) {
	if !p.running() {
		return
	}
	children := childPIDs(p.cmd.Process.Pid)
	if _, err := p.stop(os.Interrupt, time.Minute); err == nil {
		return
	}
	p.kill()
	for _, pid := range children {
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			t.Logf("killed process %d that yst dev left running", pid)
		}
	}
}

func TestRestart_DevStackStoppedWithFlowsPending(t *testing.T) {
	t.Parallel()
	const shortTTL = 15 * time.Second
	testStart := time.Now()
	s := newDevStack(t)

	// First run: flows pending in every state, then Ctrl-C.
	dev := s.start()
	repSession, accountID, err := s.api.certifiedAccount(s.enterprise)
	if err != nil {
		t.Fatal(err)
	}
	untouched := mustStartLogin(t, s.api)
	passedAtProvider := mustStartLogin(t, s.api)
	if err := s.api.decide(passedAtProvider.ProviderToken, "pass"); err != nil {
		t.Fatal(err)
	}
	invitedOnly := mustInvite(t, s.api, repSession, accountID)
	verifying := mustInvite(t, s.api, repSession, accountID)
	verifyingCheck, err := s.api.startShareVerification(verifying.ShareToken)
	if err != nil {
		t.Fatal(err)
	}
	verifiedAtProvider := mustInvite(t, s.api, repSession, accountID)
	verifiedCheck, err := s.api.startShareVerification(verifiedAtProvider.ShareToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.api.decide(verifiedCheck.ProviderToken, "pass"); err != nil {
		t.Fatal(err)
	}
	s.stop(dev)

	// Second run, with short validity: flows that expire while the stack
	// is stopped.
	dev = s.start("YST_FACE_VERIFICATION_TTL="+shortTTL.String(), "YST_INVITATION_TTL="+shortTTL.String())
	expiring := mustStartLogin(t, s.api)
	expiringInvitation := mustInvite(t, s.api, repSession, accountID)
	expiringCheck, err := s.api.startShareVerification(expiringInvitation.ShareToken)
	if err != nil {
		t.Fatal(err)
	}
	expiresBy := time.Now().Add(shortTTL)
	s.stop(dev)
	time.Sleep(time.Until(expiresBy.Add(2 * time.Second)))

	// Third run: everything completes or expires.
	dev = s.start()
	var flows flowGroup
	flows.run("login pending across the restart", func() error {
		return s.api.finishLogin(untouched, true)
	})
	flows.run("login passed at the provider before the stop", func() error {
		return s.api.finishLogin(passedAtProvider, false)
	})
	flows.run("login that expired while stopped", func() error {
		r, err := s.api.waitForLogin(expiring, time.Minute)
		if err == nil && r.str("status") != models.LoginExpired {
			err = fmt.Errorf("%w: %s, want expired", errUnexpected, r)
		}
		return err
	})
	flows.run("invitation without a verification", func() error {
		return s.api.accept(invitedOnly, time.Minute)
	})
	flows.run("invitation with a verification started", func() error {
		if err := s.api.decide(verifyingCheck.ProviderToken, "pass"); err != nil {
			return err
		}
		if err := s.api.report(verifyingCheck.ID); err != nil {
			return err
		}
		return s.api.waitForShare(verifying.ShareToken, models.InvitationAccepted, time.Minute)
	})
	flows.run("invitation verified at the provider before the stop", func() error {
		if err := s.api.report(verifiedCheck.ID); err != nil {
			return err
		}
		return s.api.waitForShare(verifiedAtProvider.ShareToken, models.InvitationAccepted, time.Minute)
	})
	flows.run("invitation that expired while stopped", func() error {
		return s.api.waitForShare(expiringInvitation.ShareToken, models.InvitationExpired, time.Minute)
	})
	flows.wait(t)

	books := newLedger(t, "", filepath.Join(s.dataDir, "yst.db"), s.temporal)
	books.login(untouched, models.LoginSucceeded)
	books.login(passedAtProvider, models.LoginSucceeded)
	books.login(expiring, models.LoginExpired)
	books.personSessions()
	books.invitation(accountID, invitedOnly, models.InvitationAccepted, 0)
	books.invitation(accountID, verifying, models.InvitationAccepted, 0)
	books.invitation(accountID, verifiedAtProvider, models.InvitationAccepted, 0)
	books.invitation(accountID, expiringInvitation, models.InvitationExpired, 0)
	if got := books.text("SELECT status FROM face_verifications WHERE id = ?", expiringCheck.ID); got != models.VerificationExpired {
		t.Errorf("the verification of the expired invitation is %q, want expired", got)
	}
	s.stop(dev)
	t.Logf("figures: 3 starts and stops of yst dev (%s), 3 face logins and 4 agent invitations pending across them; %s",
		strings.Join(s.timings, ", "), time.Since(testStart).Round(time.Second))
}
