// Package testenv gives tests the real components they run against: a fresh
// PostgreSQL database, a SQLite file, a Temporal dev server, and a complete
// stack of API and worker. Nothing here is mocked.
package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"gorm.io/gorm"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

// TestDataKey is a fixed, test-only YST_DATA_KEY (base64 of 32 bytes). It
// protects only synthetic test data, such as the recorded replay histories.
const TestDataKey = "dGVzdC1vbmx5LWRhdGEta2V5LW5vdC1hLXNlY3JldCE="

// Keyring returns the keyring of TestDataKey.
func Keyring(tb testing.TB) *secure.Keyring {
	tb.Helper()
	key, err := secure.ParseKey(TestDataKey)
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := secure.NewKeyring(key)
	if err != nil {
		tb.Fatal(err)
	}
	return keys
}

// RepoRoot returns the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// PostgresURL creates a fresh database on the server named by
// YST_TEST_DATABASE_URL (make test sets it) and drops it after the test.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("YST_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, _, err := models.Open(base, "")
	if err != nil {
		tb.Fatalf("PostgreSQL is needed: %v (run the tests with make test, or set YST_TEST_DATABASE_URL)", err)
	}
	name := "yst_test_" + secure.NewID()[:12]
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		tb.Fatalf("PostgreSQL is needed: unable to create a test database on %s: %v (run the tests with make test, or set YST_TEST_DATABASE_URL)", redact(base), err)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	tb.Cleanup(func() {
		_ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error
		closeGorm(admin)
	})
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the configured server"
	}
	u.User = nil
	return u.String()
}

func closeGorm(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// Databases lists the dialects store tests run on.
var Databases = []models.Dialect{models.SQLite, models.Postgres}

// OpenStore opens a migrated store of dialect: a fresh PostgreSQL database
// or a SQLite file in a temporary directory.
func OpenStore(tb testing.TB, dialect models.Dialect) *models.Store {
	tb.Helper()
	return OpenStoreWithKeys(tb, dialect, Keyring(tb))
}

// OpenStoreWithKeys is OpenStore with a chosen keyring.
func OpenStoreWithKeys(tb testing.TB, dialect models.Dialect, keys *secure.Keyring) *models.Store {
	tb.Helper()
	dbURL := DatabaseURL(tb, dialect)
	db, d, err := models.Open(dbURL, strings.TrimPrefix(dbURL, "sqlite:"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { closeGorm(db) })
	if _, err := models.Migrate(context.Background(), db, d); err != nil {
		tb.Fatal(err)
	}
	store, err := models.NewStore(db, d, keys)
	if err != nil {
		tb.Fatal(err)
	}
	return store
}

// DatabaseURL returns a YST_DATABASE_URL value for a fresh database.
func DatabaseURL(tb testing.TB, dialect models.Dialect) string {
	tb.Helper()
	if dialect == models.Postgres {
		return PostgresURL(tb)
	}
	return "sqlite:" + filepath.Join(tb.TempDir(), "yst.db")
}

// SearchAttributes are the custom search attributes the flows use.
var SearchAttributes = temporal.NewSearchAttributes(
	temporal.NewSearchAttributeKeyKeyword("YstFlowKind").ValueSet(""),
	temporal.NewSearchAttributeKeyKeyword("YstFlowStatus").ValueSet(""),
	temporal.NewSearchAttributeKeyKeyword("YstEnterpriseAccountID").ValueSet(""),
	temporal.NewSearchAttributeKeyKeyword("YstUSCC").ValueSet(""),
	temporal.NewSearchAttributeKeyTime("YstExpiresAt").ValueSet(time.Time{}),
)

// TemporalCLI returns the path of the Temporal CLI binary: YST_TEMPORAL_CLI,
// or bin/temporal at the repository root.
func TemporalCLI() (string, error) {
	path := os.Getenv("YST_TEMPORAL_CLI")
	if path == "" {
		path = filepath.Join(RepoRoot(), "bin", "temporal")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("the Temporal CLI is needed at %s: run make temporal, or set YST_TEMPORAL_CLI", path)
	}
	return path, nil
}

// DevServer is a Temporal dev server shared by the tests of one package.
type DevServer struct {
	server *testsuite.DevServer
	Addr   string
}

// StartDevServer starts an in-memory dev server with the search attributes.
// Call it from TestMain and Stop it after m.Run.
func StartDevServer() (*DevServer, error) {
	cli, err := TemporalCLI()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath(cli); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	server, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     cli,
		LogLevel:         "error",
		SearchAttributes: SearchAttributes,
		ClientOptions:    &client.Options{Logger: QuietLogger{}},
		ExtraArgs:        []string{"--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true"},
	})
	if err != nil {
		return nil, fmt.Errorf("unable to start the Temporal dev server: %w", err)
	}
	return &DevServer{server: server, Addr: server.FrontendHostPort()}, nil
}

// Stop stops the dev server.
func (d *DevServer) Stop() {
	if d != nil && d.server != nil {
		_ = d.server.Stop()
	}
}

// QuietLogger drops the Temporal SDK's log lines in tests.
type QuietLogger struct{}

// Debug drops the line.
func (QuietLogger) Debug(string, ...any) {}

// Info drops the line.
func (QuietLogger) Info(string, ...any) {}

// Warn drops the line.
func (QuietLogger) Warn(string, ...any) {}

// Error drops the line.
func (QuietLogger) Error(string, ...any) {}
