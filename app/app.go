// Package app is the composition root shared by the yst subcommands and the
// end-to-end tests: it opens the database, the keyring, the Temporal client
// and the face provider from a Config, and runs the API and the worker.
package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/api"
	"github.com/gdyst/accountflows/codec"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/face/sandbox"
	"github.com/gdyst/accountflows/logging"
	"github.com/gdyst/accountflows/metrics"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/worker"
	"github.com/gdyst/accountflows/workflows"
)

// App holds the opened dependencies.
type App struct {
	Config   config.Config
	Log      *zap.Logger
	Keys     *secure.Keyring
	Store    *models.Store
	Temporal client.Client
	Provider face.Provider
	Sandbox  *sandbox.Provider
	Registry registry.Registry
	Metrics  *metrics.Metrics
}

// Keyring builds the keyring from YST_DATA_KEY and YST_DATA_KEY_PREVIOUS.
func Keyring(cfg config.Config) (*secure.Keyring, error) {
	master, err := secure.ParseKey(cfg.DataKey)
	if err != nil {
		return nil, fmt.Errorf("YST_DATA_KEY: %w", err)
	}
	var previous [][]byte
	for i, encoded := range cfg.PreviousDataKeys {
		key, err := secure.ParseKey(encoded)
		if err != nil {
			return nil, fmt.Errorf("YST_DATA_KEY_PREVIOUS entry %d: %w", i+1, err)
		}
		previous = append(previous, key)
	}
	return secure.NewKeyring(master, previous...)
}

// Open connects everything the API and the worker need. It does not migrate.
func Open(ctx context.Context, cfg config.Config, log *zap.Logger) (*App, error) {
	keys, err := Keyring(cfg)
	if err != nil {
		return nil, err
	}
	reg, err := openRegistry(cfg, log)
	if err != nil {
		return nil, err
	}
	db, dialect, err := models.Open(cfg.DatabaseURL, cfg.SQLitePath())
	if err != nil {
		return nil, err
	}
	store, err := models.NewStore(db, dialect, keys)
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	tc, err := client.DialContext(ctx, client.Options{
		HostPort:       cfg.TemporalAddress,
		Namespace:      cfg.TemporalNamespace,
		Logger:         logging.NewTemporalLogger(log),
		DataConverter:  codec.DataConverter(keys),
		MetricsHandler: m.TemporalHandler(),
		// Payloads are AES-GCM ciphertext, which gzip cannot shrink. The
		// SDK's default gzip took 6 % of the API's CPU and 10 % of the
		// worker's under load (docs/benchmarks.md).
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}},
	})
	if err != nil {
		closeDB(store)
		return nil, fmt.Errorf("unable to connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	a := &App{Config: cfg, Log: log, Keys: keys, Store: store, Temporal: tc, Registry: reg, Metrics: m}
	if cfg.FaceProvider == "sandbox" {
		a.Sandbox = sandbox.New(db, keys, cfg.PublicURL, []byte(cfg.FaceCallbackSecret), log)
		a.Provider = a.Sandbox
	}
	if a.Provider == nil {
		a.Close()
		return nil, fmt.Errorf("YST_FACE_PROVIDER: unknown provider %q", cfg.FaceProvider)
	}
	return a, nil
}

// openRegistry loads the enterprise registry CSV of YST_REGISTRY_FILE. An
// invalid row stops the start with an error naming its line.
func openRegistry(cfg config.Config, log *zap.Logger) (*registry.CSV, error) {
	reg, err := registry.Open(cfg.RegistryFile)
	if err != nil {
		return nil, fmt.Errorf("YST_REGISTRY_FILE: %w", err)
	}
	log.Info("enterprise registry loaded", zap.String("file", cfg.RegistryFile), zap.Int("enterprises", reg.Len()))
	return reg, nil
}

func closeDB(store *models.Store) {
	if sqlDB, err := store.DB().DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// Close releases the Temporal client and the database.
func (a *App) Close() {
	a.Temporal.Close()
	closeDB(a.Store)
}

// Migrate applies the database migrations.
func (a *App) Migrate(ctx context.Context) error {
	applied, err := models.Migrate(ctx, a.Store.DB(), a.Store.Dialect())
	if err != nil {
		return err
	}
	a.Log.Info("database migrated", zap.String("dialect", string(a.Store.Dialect())), zap.Int("applied", len(applied)))
	return nil
}

// ShutdownTimeout bounds how long in-flight requests get to finish on stop.
const ShutdownTimeout = 15 * time.Second

// RunAPI serves the API on ln (or on YST_HTTP_ADDR when ln is nil) until
// ctx ends, then lets requests in flight finish within ShutdownTimeout.
func (a *App) RunAPI(ctx context.Context, ln net.Listener) error {
	e, _, err := api.New(api.Deps{Config: a.Config, Store: a.Store, Temporal: a.Temporal, Sandbox: a.Sandbox, Registry: a.Registry, Log: a.Log, Metrics: a.Metrics})
	if err != nil {
		return err
	}
	if ln == nil {
		ln, err = net.Listen("tcp", a.Config.HTTPAddr)
		if err != nil {
			return fmt.Errorf("unable to listen on %s: %w", a.Config.HTTPAddr, err)
		}
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ln) }()
	a.Log.Info("api listening", zap.String("addr", ln.Addr().String()))
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("unable to stop the API cleanly: %w", err)
	}
	a.Log.Info("api stopped")
	return nil
}

// RunWorker runs the Temporal worker until ctx ends.
func (a *App) RunWorker(ctx context.Context) error {
	acts, err := activities.New(a.Store, a.Provider)
	if err != nil {
		return err
	}
	acts.FlowEnded = a.Metrics.CountFlowOutcome
	acts.Registry = a.Registry
	sweeper, err := activities.NewSweeper(a.Store, a.Temporal)
	if err != nil {
		return err
	}
	stopMetrics, err := a.serveWorkerMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()
	w := worker.New(a.Temporal, a.Config.TaskQueue, acts, sweeper)
	if err := w.Start(); err != nil {
		return fmt.Errorf("unable to start the worker: %w", err)
	}
	a.Log.Info("worker started", zap.String("task_queue", a.Config.TaskQueue))
	a.ensureSweepSchedule(ctx)
	<-ctx.Done()
	w.Stop()
	a.Log.Info("worker stopped")
	return nil
}

// ensureSweepSchedule creates the hourly sweep schedule. A failure is
// logged and the worker keeps running: every flow still expires by its own
// timer, and the next worker start tries again.
func (a *App) ensureSweepSchedule(ctx context.Context) {
	change, err := worker.EnsureSweepSchedule(ctx, a.Temporal, a.Config.TaskQueue)
	if err != nil {
		a.Log.Error("unable to create the sweep schedule", zap.Error(err))
		return
	}
	a.Log.Info("sweep schedule ready", zap.String("schedule_id", workflows.SweepScheduleID), zap.String("change", string(change)))
}
