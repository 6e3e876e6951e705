package main

import (
	"context"
	"fmt"

	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/models"
)

func migrate(ctx context.Context, cfg config.Config) error {
	db, dialect, err := models.Open(cfg.DatabaseURL, cfg.SQLitePath())
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	applied, err := models.Migrate(ctx, db, dialect)
	if err != nil {
		return err
	}
	fmt.Printf("migrated %s database: %d migration(s) applied\n", dialect, len(applied))
	return nil
}
