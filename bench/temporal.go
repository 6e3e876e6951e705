package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gdyst/accountflows/workflows"
)

// temporalServer is a Temporal CLI dev server run as a child process.
type temporalServer struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// startTemporal starts the dev server on a free loopback port, in memory or
// on a SQLite file in workDir, with the service's search attributes. The
// SQLite file uses WAL with synchronous=normal, as yst dev does.
func startTemporal(ctx context.Context, cli, workDir, store string) (*temporalServer, error) {
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("the Temporal CLI was not found at %s: run make temporal, or set YST_TEMPORAL_CLI", cli)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}

	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--headless",
		"--log-level", "error",
		"--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true",
	}
	if store == TemporalSQLite {
		args = append(args,
			"--db-filename", filepath.Join(workDir, "temporal.db"),
			"--sqlite-pragma", "journal_mode=wal",
			"--sqlite-pragma", "synchronous=normal")
	}
	for _, key := range workflows.SearchAttributeKeys {
		args = append(args, "--search-attribute", key.GetName()+"="+key.GetValueType().String())
	}

	logFile, err := os.Create(filepath.Join(workDir, "temporal.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cli, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("unable to start the Temporal dev server: %w", err)
	}
	s := &temporalServer{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady dials the server until a connection succeeds, for at most 90 s.
func (s *temporalServer) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		c, err := client.DialContext(ctx, client.Options{HostPort: s.addr, Logger: quietLogger{}})
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.done:
			return errors.New("the Temporal dev server exited at start (see temporal.log in the work directory)")
		default:
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("the Temporal dev server at %s did not come up within 90 s: %w", s.addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *temporalServer) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM to the server's process group and SIGKILL after 15 s.
func (s *temporalServer) stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// quietLogger drops the Temporal SDK's log lines of the benchmark driver.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
