//go:build chaos

package worker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
)

// runActivity runs an activity named name, which fails when fail is set,
// under sw in the SDK's activity test environment.
func runActivity(t *testing.T, sw *crashSwitch, name string, fail bool) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.SetWorkerOptions(sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{sw}})
	env.RegisterActivityWithOptions(func(context.Context) error {
		if fail {
			return os.ErrInvalid
		}
		return nil
	}, activity.RegisterOptions{Name: name})
	_, _ = env.ExecuteActivity(name)
}

func newTestSwitch(t *testing.T, env map[string]string) (*crashSwitch, *atomic.Int32) {
	t.Helper()
	kills := &atomic.Int32{}
	sw := crashSwitchFromEnv(func(name string) string { return env[name] }, func() { kills.Add(1) })
	if sw == nil {
		t.Fatalf("crashSwitchFromEnv(%v) = nil, want a switch", env)
	}
	return sw, kills
}

func TestCrashSwitch_OffWithoutSetting(t *testing.T) {
	if sw := crashSwitchFromEnv(func(string) string { return "" }, func() {}); sw != nil {
		t.Errorf("crashSwitchFromEnv without %s = %+v, want nil", EnvCrashAfter, sw)
	}
}

func TestCrashSwitch_KillsAfterListedActivity(t *testing.T) {
	sw, kills := newTestSwitch(t, map[string]string{EnvCrashAfter: "AcceptInvitation, FinishFaceLogin"})
	runActivity(t, sw, "CheckVerification", false)
	if n := kills.Load(); n != 0 {
		t.Fatalf("kills after an unlisted activity = %d, want 0", n)
	}
	runActivity(t, sw, "FinishFaceLogin", false)
	if n := kills.Load(); n != 1 {
		t.Errorf("kills after a listed activity = %d, want 1", n)
	}
}

func TestCrashSwitch_KeepsFailedActivity(t *testing.T) {
	sw, kills := newTestSwitch(t, map[string]string{EnvCrashAfter: "*"})
	runActivity(t, sw, "EndInvitation", true)
	if n := kills.Load(); n != 0 {
		t.Errorf("kills after a failed activity = %d, want 0", n)
	}
}

func TestCrashSwitch_MarkerAllowsOneCrash(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{EnvCrashAfter: "*", EnvCrashDir: dir}
	sw, kills := newTestSwitch(t, env)
	runActivity(t, sw, "BeginVerification", false)
	if n := kills.Load(); n != 1 {
		t.Fatalf("kills after the first completion = %d, want 1", n)
	}
	markers, err := filepath.Glob(filepath.Join(dir, "*.BeginVerification"))
	if err != nil || len(markers) != 1 {
		t.Fatalf("crash markers = %v, %v; want one for BeginVerification", markers, err)
	}
	raw, err := os.ReadFile(markers[0])
	if err != nil {
		t.Fatalf("crash marker: %v", err)
	}
	if !strings.Contains(string(raw), "attempt=1") {
		t.Errorf("crash marker = %q, want the attempt", raw)
	}

	// The worker that starts after the crash reads the same directory.
	restarted, restartedKills := newTestSwitch(t, env)
	runActivity(t, restarted, "BeginVerification", false)
	if n := restartedKills.Load(); n != 0 {
		t.Errorf("kills after an activity that has a marker = %d, want 0", n)
	}
}
