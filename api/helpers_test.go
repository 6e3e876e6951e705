package api_test

import (
	"testing"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/api"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/face/sandbox"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/testenv"
)

// newEcho builds the API over a real SQLite store and a Temporal client
// that never connects: enough for tests of routing and validation.
func newEcho(t *testing.T) *echo.Echo {
	t.Helper()
	store := testenv.OpenStore(t, models.SQLite)
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: testenv.QuietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	sb := sandbox.New(store.DB(), store.Keys(), cfg.PublicURL, []byte("callback-secret"), zap.NewNop())
	reg, err := registry.Sample()
	if err != nil {
		t.Fatal(err)
	}
	e, _, err := api.New(api.Deps{Config: cfg, Store: store, Temporal: tc, Sandbox: sb, Registry: reg, Log: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
