// Package models owns the service's stored data: the GORM models, their
// versioned migrations for PostgreSQL and SQLite, and the Store whose methods
// read and change them. Personal values are sealed by package secure before
// they reach a column.
package models

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the SQL database behind a Store.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Open connects to PostgreSQL when url starts with postgres:// and otherwise
// opens (creating if needed) the SQLite file at sqlitePath.
func Open(url, sqlitePath string) (*gorm.DB, Dialect, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	}
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		db, err := gorm.Open(postgres.Open(url), cfg)
		if err != nil {
			return nil, "", fmt.Errorf("unable to open PostgreSQL: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, "", err
		}
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		return db, Postgres, nil
	}
	if err := os.MkdirAll(filepath.Dir(sqlitePath), 0o700); err != nil {
		return nil, "", fmt.Errorf("unable to create the data directory: %w", err)
	}
	// WAL lets readers run beside the one writer; busy_timeout makes a
	// second writer wait instead of failing with SQLITE_BUSY.
	dsn := sqlitePath + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), cfg)
	if err != nil {
		return nil, "", fmt.Errorf("unable to open SQLite at %s: %w", sqlitePath, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, "", err
	}
	// SQLite has one writer; a single connection avoids lock contention
	// between connections of the same process.
	sqlDB.SetMaxOpenConns(1)
	return db, SQLite, nil
}

// Migrate applies every migration not yet applied. On PostgreSQL an advisory
// lock lets several processes call it at once.
func Migrate(ctx context.Context, db *gorm.DB, dialect Dialect) ([]string, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	provider, err := newMigrationProvider(sqlDB, dialect)
	if err != nil {
		return nil, err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("unable to migrate: %w", err)
	}
	applied := make([]string, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	return applied, nil
}

// MigrateDown rolls back every migration; tests use it to check the Down steps.
func MigrateDown(ctx context.Context, db *gorm.DB, dialect Dialect) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	provider, err := newMigrationProvider(sqlDB, dialect)
	if err != nil {
		return err
	}
	_, err = provider.DownTo(ctx, 0)
	return err
}

func newMigrationProvider(sqlDB *sql.DB, dialect Dialect) (*goose.Provider, error) {
	dir, gooseDialect := "migrations/sqlite", goose.DialectSQLite3
	var opts []goose.ProviderOption
	if dialect == Postgres {
		dir, gooseDialect = "migrations/postgres", goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gooseDialect, sqlDB, fsys, opts...)
}

// Ping checks that the database responds within ctx.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Errors the Store returns; callers compare with errors.Is.
var (
	ErrNotFound = errors.New("models: not found")
	ErrConflict = errors.New("models: conflicting state")
)

// notFound translates GORM's not-found into ErrNotFound at the store's edge.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
