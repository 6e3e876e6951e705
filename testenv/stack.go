package testenv

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gdyst/accountflows/app"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

// Stack is a running API and worker over a fresh database and the shared
// dev server, on a task queue of its own.
type Stack struct {
	URL    string
	Config config.Config
	App    *app.App
	logs   *syncBuffer

	stopOnce sync.Once
	cancel   context.CancelFunc
	running  sync.WaitGroup
	apiErr   error
}

// Logs returns everything the stack logged so far.
func (s *Stack) Logs() string { return s.logs.String() }

// Stop cancels the stack's context, as SIGTERM does to yst, and waits until
// the API has let its requests in flight finish and the worker has stopped.
// It returns the API's error, such as a shutdown past app.ShutdownTimeout.
// Later calls only return the first result.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		s.running.Wait()
	})
	return s.apiErr
}

// Sharing returns a configure function for NewStack that gives the new
// stack the database, task queue, namespace and secrets of s, so that the
// two stacks act as two API and worker processes of one deployment. Use it
// with PostgreSQL: a SQLite file is not meant for two processes.
func (s *Stack) Sharing() func(*config.Config) {
	shared := s.Config
	return func(c *config.Config) {
		c.DatabaseURL = shared.DatabaseURL
		c.TaskQueue = shared.TaskQueue
		c.TemporalNamespace = shared.TemporalNamespace
		c.DataKey = shared.DataKey
		c.PreviousDataKeys = shared.PreviousDataKeys
		c.StaffToken = shared.StaffToken
		c.FaceCallbackSecret = shared.FaceCallbackSecret
		c.RegistryFile = shared.RegistryFile
	}
}

// NewStack starts a stack on dialect, over a fresh database unless
// configure sets YST_DATABASE_URL. configure may change the configuration
// before start; rate limits are off unless it turns them on.
func NewStack(tb testing.TB, dev *DevServer, dialect models.Dialect, configure ...func(*config.Config)) *Stack {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	cfg.HTTPAddr = ln.Addr().String()
	cfg.PublicURL = "http://" + ln.Addr().String()
	cfg.DataDir = tb.TempDir()
	cfg.TemporalAddress = dev.Addr
	cfg.TaskQueue = "yst-test-" + secure.NewID()[:12]
	cfg.DataKey = secure.NewKey()
	cfg.StaffToken = secure.NewToken()
	cfg.FaceCallbackSecret = secure.NewToken()
	cfg.FaceLoginLimitPerID = config.RateLimit{}
	cfg.FaceLoginLimitPerIP = config.RateLimit{}
	for _, fn := range configure {
		fn(&cfg)
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = DatabaseURL(tb, dialect)
	}

	logs := &syncBuffer{}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logs), zap.DebugLevel)
	log := zap.New(core)

	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	if err := a.Migrate(ctx); err != nil {
		cancel()
		tb.Fatal(err)
	}
	s := &Stack{URL: "http://" + ln.Addr().String(), Config: cfg, App: a, logs: logs, cancel: cancel}
	s.running.Add(2)
	go func() { defer s.running.Done(); s.apiErr = a.RunAPI(ctx, ln) }()
	go func() { defer s.running.Done(); _ = a.RunWorker(ctx) }()
	tb.Cleanup(func() {
		_ = s.Stop()
		a.Close()
	})
	return s
}

// Eventually retries check every 50 ms until it returns true or timeout passes.
func Eventually(tb testing.TB, timeout time.Duration, what string, check func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !check() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
