package bench

import (
	"context"
	"fmt"
	"net/url"

	"gorm.io/gorm"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

// database is a PostgreSQL database created for one run.
type database struct {
	url   string
	name  string
	admin *gorm.DB
	db    *gorm.DB
}

// createDatabase creates a fresh database on the server named by serverURL,
// applies the migrations and returns it open.
func createDatabase(ctx context.Context, serverURL string) (*database, error) {
	admin, _, err := models.Open(serverURL, "")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL is needed at %s: %w (set YST_TEST_DATABASE_URL, or run make bench, which finds one)", redactURL(serverURL), err)
	}
	name := "yst_bench_" + secure.NewID()[:12]
	if err := admin.WithContext(ctx).Exec("CREATE DATABASE " + name).Error; err != nil {
		closeGorm(admin)
		return nil, fmt.Errorf("unable to create database %s on %s: %w", name, redactURL(serverURL), err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		closeGorm(admin)
		return nil, err
	}
	u.Path = "/" + name
	d := &database{url: u.String(), name: name, admin: admin}
	d.db, _, err = models.Open(d.url, "")
	if err != nil {
		d.drop()
		return nil, err
	}
	if _, err := models.Migrate(ctx, d.db, models.Postgres); err != nil {
		d.drop()
		return nil, err
	}
	return d, nil
}

// backendPIDs lists the server processes serving connections to this database.
func (d *database) backendPIDs(ctx context.Context) ([]int, error) {
	var pids []int
	err := d.db.WithContext(ctx).Raw("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").Scan(&pids).Error
	return pids, err
}

// drop closes the connections and drops the database.
func (d *database) drop() {
	if d.db != nil {
		closeGorm(d.db)
	}
	_ = d.admin.Exec("DROP DATABASE IF EXISTS " + d.name + " WITH (FORCE)").Error
	closeGorm(d.admin)
}

func closeGorm(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// redactURL drops the credentials from a database URL before it is printed.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the configured server"
	}
	u.User = nil
	return u.String()
}
