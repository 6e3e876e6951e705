//go:build chaos

package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// outputTail is how much of a process's output a failed test prints.
const outputTail = 6000

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n bytes of the output.
func (b *lockedBuffer) tail(n int) string {
	s := b.String()
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// process is one running yst command.
type process struct {
	name   string
	cmd    *exec.Cmd
	output *lockedBuffer
	exited chan struct{}
	// state is set once exited is closed.
	state     *os.ProcessState
	startedAt time.Time
}

// spawn starts yst with args and exactly the environment env. It does not
// stop the process: startYst and workerSupervisor do.
func spawn(name string, env []string, args ...string) (*process, error) {
	p := &process{name: name, cmd: exec.Command(ystPath, args...), output: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("unable to start yst %s: %w", strings.Join(args, " "), err)
	}
	p.startedAt = time.Now()
	go func() {
		_ = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.exited)
	}()
	return p, nil
}

// startYst spawns yst and, at the end of the test, kills it if it still
// runs and prints its output if the test failed.
func startYst(t *testing.T, name string, env []string, args ...string) *process {
	t.Helper()
	p, err := spawn(name, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("output of %s (all of it in %s):\n%s", p.name, saveOutput(t, p), p.output.tail(outputTail))
		}
	})
	return p
}

// saveOutput writes the whole output of a process of a failed test to a
// file that outlives the test, and returns its path.
func saveOutput(t *testing.T, p *process) string {
	dir := filepath.Join(os.TempDir(), "yst-chaos-logs", strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err.Error()
	}
	path := filepath.Join(dir, strings.ReplaceAll(p.name, " ", "-")+".log")
	if err := os.WriteFile(path, []byte(p.output.String()), 0o600); err != nil {
		return err.Error()
	}
	return path
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL, as kill -9 does, and waits for the process to exit.
func (p *process) kill() {
	if p.running() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.exited
}

// stop sends sig, unless it is nil, and returns the exit code, or an error
// if the process still runs after timeout or was ended by a signal.
func (p *process) stop(sig os.Signal, timeout time.Duration) (int, error) {
	if sig != nil && p.running() {
		if err := p.cmd.Process.Signal(sig); err != nil {
			return 0, err
		}
	}
	select {
	case <-p.exited:
	case <-time.After(timeout):
		return 0, fmt.Errorf("%s still runs %s after %s", p.name, timeout, sig)
	}
	if killedBy(p.state) != 0 {
		return 0, fmt.Errorf("%s was ended by %s", p.name, killedBy(p.state))
	}
	return p.state.ExitCode(), nil
}

// killedBy returns the signal that ended a process, or 0 if it exited.
func killedBy(state *os.ProcessState) syscall.Signal {
	if status, ok := state.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return status.Signal()
	}
	return 0
}

// childPIDs lists the direct children of the process, read from /proc, so
// that a test can end a child that its killed parent left behind.
func childPIDs(pid int) []int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var pids []int
	for _, field := range strings.Fields(string(raw)) {
		if n, err := strconv.Atoi(field); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// workerSupervisor keeps one yst worker running, as a container runtime
// with a restart policy does: whenever the worker exits, killed or not, it
// starts the next one at once, up to maxStarts workers in all.
type workerSupervisor struct {
	t         *testing.T
	env       []string
	maxStarts int

	mu       sync.Mutex
	current  *process
	all      []*process
	kills    int
	problems []string
	stopping bool
	done     chan struct{}
	// laterEnv, when set, replaces env for the workers started after
	// laterAfterKills kills.
	laterEnv        []string
	laterAfterKills int
}

func superviseWorker(t *testing.T, env []string, maxStarts int) *workerSupervisor {
	t.Helper()
	s := &workerSupervisor{t: t, env: env, maxStarts: maxStarts, done: make(chan struct{})}
	go s.run()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			s.mu.Lock()
			defer s.mu.Unlock()
			for i, p := range s.all {
				t.Logf("output of worker %d of %d (all of it in %s):\n%s", i+1, len(s.all), saveOutput(t, p), p.output.tail(outputTail))
			}
		}
	})
	return s
}

func (s *workerSupervisor) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			return
		}
		if len(s.all) >= s.maxStarts {
			s.problems = append(s.problems, fmt.Sprintf("the worker exited %d times, the most this test allows", len(s.all)))
			s.mu.Unlock()
			return
		}
		env := s.env
		if s.laterEnv != nil && s.kills >= s.laterAfterKills {
			env = s.laterEnv
		}
		p, err := spawn(fmt.Sprintf("worker %d", len(s.all)+1), env, "worker")
		if err != nil {
			s.problems = append(s.problems, err.Error())
			s.mu.Unlock()
			return
		}
		s.current = p
		s.all = append(s.all, p)
		s.mu.Unlock()

		<-p.exited
		s.mu.Lock()
		switch {
		case killedBy(p.state) == syscall.SIGKILL:
			s.kills++
		case !s.stopping:
			s.problems = append(s.problems, fmt.Sprintf("%s exited with %s without being killed", p.name, p.state))
		}
		s.mu.Unlock()
	}
}

// setEnvAfterKills sets the environment of the workers started once the
// supervisor has seen kills workers killed.
func (s *workerSupervisor) setEnvAfterKills(kills int, env []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.laterEnv, s.laterAfterKills = env, kills
}

// killRunning sends SIGKILL to the current worker if it has run for at
// least minUp, and reports whether it did.
func (s *workerSupervisor) killRunning(minUp time.Duration) bool {
	s.mu.Lock()
	p := s.current
	s.mu.Unlock()
	if p == nil || !p.running() || time.Since(p.startedAt) < minUp {
		return false
	}
	return p.cmd.Process.Signal(syscall.SIGKILL) == nil
}

// stop ends the supervision and stops the current worker with SIGTERM.
func (s *workerSupervisor) stop() {
	s.mu.Lock()
	s.stopping = true
	p := s.current
	s.mu.Unlock()
	if p != nil {
		if _, err := p.stop(syscall.SIGTERM, 20*time.Second); err != nil {
			p.kill()
		}
	}
	<-s.done
}

// report returns how many workers were started and killed, and what went
// wrong in the supervision.
func (s *workerSupervisor) report() (starts, kills int, problems []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.all), s.kills, append([]string(nil), s.problems...)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
}

// eventually calls check every interval until it returns true, returns an
// error, or timeout passes.
func eventually(timeout, interval time.Duration, what string, check func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		done, err := check()
		if done {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				return fmt.Errorf("timed out after %s waiting for %s: last error: %w", timeout, what, lastErr)
			}
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(interval)
	}
}

var errUnexpected = errors.New("unexpected response")
