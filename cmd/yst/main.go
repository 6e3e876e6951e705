// Command yst runs the 粤商通 account-flows service.
//
//	yst dev       everything on one machine: Temporal dev server, migrations, API, worker, sandbox
//	yst api       the HTTP API
//	yst worker    the Temporal worker
//	yst migrate   apply database migrations and exit
//	yst temporal-setup   register the custom search attributes on a Temporal cluster
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/gdyst/accountflows/app"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/logging"
)

const usage = `usage: yst <command>

commands:
  dev       start the Temporal dev server, migrate, and run API, worker and sandbox
  api       run the HTTP API (needs YST_DATA_KEY, YST_STAFF_TOKEN, YST_FACE_CALLBACK_SECRET)
  worker    run the Temporal worker (needs YST_DATA_KEY)
  migrate   apply database migrations and exit
  temporal-setup
            register the custom search attributes (YstFlowKind, YstFlowStatus,
            YstEnterpriseAccountID, YstUSCC, YstExpiresAt) in the namespace
            YST_TEMPORAL_NAMESPACE at YST_TEMPORAL_ADDRESS; run it once on a
            real cluster before the first worker starts (yst dev does it for
            its dev server). Safe to repeat: registered ones are kept
  config    list the YST_* environment variables and their defaults
  healthcheck URL
            exit 0 if GET URL answers 2xx within 5 s, else 1; the health check
            of the container image, which has no shell or curl
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := run(ctx, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "yst:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, command string) error {
	if command == "healthcheck" {
		return healthcheck(ctx, os.Args[2:])
	}
	if command == "config" {
		for _, v := range config.Variables {
			fmt.Printf("%-32s default %-34s %s\n", v.Name, v.Default, v.Meaning)
		}
		return nil
	}
	cfg, err := config.FromEnvironment()
	if err != nil {
		return err
	}
	switch command {
	case "dev":
		return runDev(ctx, cfg)
	case "api":
		if err := cfg.RequireSecrets(config.NeedDataKey, config.NeedStaffToken, config.NeedCallbackSecret); err != nil {
			return err
		}
		return withApp(ctx, cfg, func(a *app.App) error { return a.RunAPI(ctx, nil) })
	case "worker":
		if err := cfg.RequireSecrets(config.NeedDataKey, config.NeedCallbackSecret); err != nil {
			return err
		}
		return withApp(ctx, cfg, func(a *app.App) error { return a.RunWorker(ctx) })
	case "migrate":
		return migrate(ctx, cfg)
	case "temporal-setup":
		return temporalSetup(ctx, cfg, os.Stdout)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", command)
}

func withApp(ctx context.Context, cfg config.Config, fn func(*app.App) error) error {
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
	if err := fn(a); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("stopped with an error", zap.Error(err))
		return err
	}
	return nil
}
