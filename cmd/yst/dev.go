package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/app"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/logging"
	"github.com/gdyst/accountflows/secure"
)

// devSecrets are generated once into the data directory so that data and
// sessions survive a restart of yst dev.
type devSecrets struct {
	DataKey        string `json:"data_key"`
	StaffToken     string `json:"staff_token"`
	CallbackSecret string `json:"callback_secret"`
}

// SearchAttributes are registered on the dev server at start.
var searchAttributes = []string{
	"YstFlowKind=Keyword",
	"YstFlowStatus=Keyword",
	"YstEnterpriseAccountID=Keyword",
	"YstUSCC=Keyword",
	"YstExpiresAt=Datetime",
}

func runDev(ctx context.Context, cfg config.Config) error {
	cfg.LogFormat = envOr("YST_LOG_FORMAT", "console")
	log, err := logging.New(cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("unable to create %s: %w", cfg.DataDir, err)
	}
	if err := applyDevSecrets(&cfg); err != nil {
		return err
	}

	cfg.TemporalAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.DevTemporalPort))
	uiURL := "http://127.0.0.1:" + strconv.Itoa(cfg.DevTemporalUIPort)
	cfg.DevUIOrigins = []string{uiURL, "http://localhost:" + strconv.Itoa(cfg.DevTemporalUIPort)}
	server, err := startDevServer(cfg)
	if err != nil {
		return err
	}
	defer server.stop(log)
	if err := waitForTemporal(ctx, cfg.TemporalAddress, server.done); err != nil {
		return err
	}

	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("unable to listen on %s (set YST_HTTP_ADDR to another port): %w", cfg.HTTPAddr, err)
	}

	fmt.Printf(`
粤商通 account flows are running.
  API:            %[1]s/v1   (OpenAPI: %[1]s/openapi.yaml)
  Temporal UI:    %[2]s
  Temporal:       %[3]s, namespace %[4]s
  Database:       %[5]s
  Face provider:  sandbox (pages under %[1]s/sandbox/face/)
Press Ctrl-C to stop everything.

`, cfg.PublicURL, uiURL, cfg.TemporalAddress, cfg.TemporalNamespace, describeDatabase(cfg))

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- a.RunAPI(ctx, ln) }()
	go func() { defer wg.Done(); errs <- a.RunWorker(ctx) }()
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	wg.Wait()
	return first
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func describeDatabase(cfg config.Config) string {
	if cfg.UsesPostgres() {
		return "PostgreSQL (YST_DATABASE_URL)"
	}
	return "SQLite at " + cfg.SQLitePath()
}

// applyDevSecrets fills secrets missing from the environment with the ones
// stored in the data directory, generating that file on first use. The
// staff token is printed only when it is generated.
func applyDevSecrets(cfg *config.Config) error {
	path := filepath.Join(cfg.DataDir, "dev-secrets.json")
	var secrets devSecrets
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &secrets); err != nil {
			return fmt.Errorf("unable to read %s (delete it to generate new dev secrets): %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		secrets = devSecrets{DataKey: secure.NewKey(), StaffToken: secure.NewToken(), CallbackSecret: secure.NewToken()}
		raw, _ := json.MarshalIndent(secrets, "", "  ")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return fmt.Errorf("unable to write %s: %w", path, err)
		}
		if cfg.StaffToken == "" {
			fmt.Printf("Generated dev secrets in %s.\nStaff token (shown once): %s\n", path, secrets.StaffToken)
		}
	default:
		return fmt.Errorf("unable to read %s: %w", path, err)
	}
	if cfg.DataKey == "" {
		cfg.DataKey = secrets.DataKey
	}
	if cfg.StaffToken == "" {
		cfg.StaffToken = secrets.StaffToken
	}
	if cfg.FaceCallbackSecret == "" {
		cfg.FaceCallbackSecret = secrets.CallbackSecret
	}
	return nil
}

type devServer struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startDevServer runs the Temporal CLI dev server with its UI, a SQLite
// file in the data directory and the search attributes. WAL with
// synchronous=normal keeps a file-backed dev server near in-memory speed.
func startDevServer(cfg config.Config) (*devServer, error) {
	if _, err := os.Stat(cfg.TemporalCLI); err != nil {
		return nil, fmt.Errorf("the Temporal CLI was not found at %s: run make run, which builds it, or set YST_TEMPORAL_CLI", cfg.TemporalCLI)
	}
	for _, port := range []struct {
		number   int
		variable string
	}{{cfg.DevTemporalPort, "YST_DEV_TEMPORAL_PORT"}, {cfg.DevTemporalUIPort, "YST_DEV_TEMPORAL_UI_PORT"}} {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port.number)))
		if err != nil {
			return nil, fmt.Errorf("port %d is in use, perhaps by a dev server left running: stop it, or set %s to another port", port.number, port.variable)
		}
		ln.Close()
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(cfg.DevTemporalPort),
		"--ui-port", strconv.Itoa(cfg.DevTemporalUIPort),
		"--namespace", cfg.TemporalNamespace,
		"--db-filename", filepath.Join(cfg.DataDir, "temporal.db"),
		"--sqlite-pragma", "journal_mode=wal",
		"--sqlite-pragma", "synchronous=normal",
		"--ui-codec-endpoint", cfg.PublicURL + "/codec",
		"--log-level", "warn",
	}
	for _, attr := range searchAttributes {
		args = append(args, "--search-attribute", attr)
	}
	logFile, err := os.OpenFile(filepath.Join(cfg.DataDir, "temporal.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.TemporalCLI, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so Ctrl-C in the terminal reaches yst first
	// and yst stops the server after the worker. On Linux the server also
	// gets SIGTERM if yst itself dies.
	cmd.SysProcAttr = devServerProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("unable to start the Temporal dev server: %w", err)
	}
	s := &devServer{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(s.done) }()
	return s, nil
}

func (s *devServer) stop(log *zap.Logger) {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		log.Warn("Temporal dev server did not stop in time; killing it")
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	log.Info("Temporal dev server stopped")
}

func waitForTemporal(ctx context.Context, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("the Temporal dev server exited while starting; see temporal.log in the data directory")
		default:
		}
		c, err := client.DialContext(ctx, client.Options{HostPort: addr, Logger: quietLogger{}})
		if err == nil {
			c.Close()
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("the Temporal dev server at %s did not come up (see temporal.log in the data directory): %w", addr, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// quietLogger drops the SDK's lines while waiting for the server.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
