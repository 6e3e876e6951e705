package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/app"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/logging"
)

// Roles of the child processes the driver starts from its own binary.
const (
	RoleAPI            = "api"
	RoleWorker         = "worker"
	RoleBaselineWorker = "baseline-worker"
)

// Environment variables the driver passes to a child besides the YST_* ones.
const (
	envHTTPFD            = "BENCH_CHILD_HTTP_FD"
	envPprofFD           = "BENCH_CHILD_PPROF_FD"
	envDoneFD            = "BENCH_CHILD_DONE_FD"
	envBaselineTaskQueue = "BENCH_BASELINE_TASK_QUEUE"
)

// RunChild runs the process of role until SIGTERM and returns its exit
// status. The api and worker roles do what yst api and yst worker do, and
// read their configuration from the same YST_* variables. The driver gives
// the api its listening socket as an inherited file descriptor.
func RunChild(role string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := runChild(ctx, role); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "ystbench %s: %v\n", role, err)
		return 1
	}
	return 0
}

func runChild(ctx context.Context, role string) error {
	stopPprof, err := servePprof()
	if err != nil {
		return err
	}
	defer stopPprof()

	if role == RoleBaselineWorker {
		done, err := inheritedFileOf(envDoneFD)
		if err != nil {
			return err
		}
		defer done.Close()
		return runBaselineWorker(ctx, os.Getenv("YST_TEMPORAL_ADDRESS"), os.Getenv(envBaselineTaskQueue), done)
	}

	cfg, err := config.FromEnvironment()
	if err != nil {
		return err
	}
	log, err := logging.New(cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()

	switch role {
	case RoleAPI:
		ln, err := inheritedListener(envHTTPFD)
		if err != nil {
			return err
		}
		return a.RunAPI(ctx, ln)
	case RoleWorker:
		return a.RunWorker(ctx)
	}
	log.Error("unknown child role", zap.String("role", role))
	return fmt.Errorf("unknown child role %q", role)
}

// inheritedFileOf returns the file passed in the file descriptor that the
// variable name holds.
func inheritedFileOf(name string) (*os.File, error) {
	raw := os.Getenv(name)
	var fd uintptr
	if _, err := fmt.Sscan(raw, &fd); err != nil {
		return nil, fmt.Errorf("%s: invalid file descriptor %q", name, raw)
	}
	return os.NewFile(fd, name), nil
}

// inheritedListener returns the listening socket passed in the file
// descriptor that the variable name holds.
func inheritedListener(name string) (net.Listener, error) {
	f, err := inheritedFileOf(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("unable to use the inherited socket of %s: %w", name, err)
	}
	return ln, nil
}

// servePprof serves net/http/pprof on the socket of BENCH_CHILD_PPROF_FD,
// when the driver passed one.
func servePprof() (stop func(), err error) {
	if os.Getenv(envPprofFD) == "" {
		return func() {}, nil
	}
	ln, err := inheritedListener(envPprofFD)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

// child is a process of the stack started from the driver's own binary.
type child struct {
	role      string
	cmd       *exec.Cmd
	done      chan struct{}
	pprofAddr string // empty unless profiling was requested
}

// inheritedFile is a file a child receives as a file descriptor whose
// number the environment variable env holds.
type inheritedFile struct {
	env  string
	file *os.File
}

// startChild starts the driver's binary as role with env added to the
// driver's environment less its YST_* variables, and with the files. With
// profile set the child serves pprof on a socket of its own. Output goes
// to ROLE.log in workDir. The caller keeps and closes its copies of files.
func startChild(role, workDir string, env []string, files []inheritedFile, profile bool) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := &child{role: role, done: make(chan struct{})}

	if profile {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		f, err := ln.(*net.TCPListener).File()
		ln.Close()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		files = append(files, inheritedFile{envPprofFD, f})
		c.pprofAddr = ln.Addr().String()
	}

	logFile, err := os.OpenFile(filepath.Join(workDir, role+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "child", role)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(withoutYSTVariables(os.Environ()), env...)
	for i, f := range files {
		// ExtraFiles[i] becomes file descriptor 3+i in the child.
		cmd.ExtraFiles = append(cmd.ExtraFiles, f.file)
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", f.env, 3+i))
	}

	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("unable to start the %s process: %w", role, err)
	}
	c.cmd = cmd
	go func() { _ = cmd.Wait(); logFile.Close(); close(c.done) }()
	return c, nil
}

// withoutYSTVariables drops YST_* entries, so that the driver's own
// environment cannot change the stack it configures.
func withoutYSTVariables(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "YST_") {
			out = append(out, kv)
		}
	}
	return out
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits. After 20 s, longer than the API's
// shutdown timeout, it sends SIGKILL.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// waitForPollers waits until the worker process proc polls the workflow
// tasks of taskQueue, for at most 60 s. The SDK's default worker identity
// starts with "PID@".
func waitForPollers(ctx context.Context, tc client.Client, taskQueue string, proc *child) error {
	deadline := time.Now().Add(60 * time.Second)
	prefix := fmt.Sprintf("%d@", proc.pid())
	for {
		resp, err := tc.DescribeTaskQueue(ctx, taskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err == nil && slices.ContainsFunc(resp.GetPollers(), func(p *taskqueuepb.PollerInfo) bool {
			return strings.HasPrefix(p.GetIdentity(), prefix)
		}) {
			return nil
		}
		if proc.exited() {
			return fmt.Errorf("the %s process exited at start (see %s.log in the work directory)", proc.role, proc.role)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("no worker polled task queue %s within 60 s (see %s.log in the work directory)", taskQueue, proc.role)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
