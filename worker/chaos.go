//go:build chaos

package worker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// The crash switch of the crash tests. It exists only in builds with the
// chaos tag, so a production binary has no way to crash on purpose.
const (
	// EnvCrashAfter lists the activities after which the worker kills
	// itself, comma-separated: an activity name such as CheckVerification,
	// the name qualified by its workflow type such as
	// FaceLogin.CheckVerification, or * for every activity.
	EnvCrashAfter = "YST_CHAOS_CRASH_AFTER"
	// EnvCrashDir is a directory where each crash first creates a marker
	// file named <workflow type>.<activity name>. The worker does not crash
	// after an activity that already has a marker, so a restarted worker
	// gets past that boundary: each activity of each workflow type crashes
	// the worker once. Without it, every worker started with EnvCrashAfter
	// crashes at the first listed activity it completes.
	EnvCrashDir = "YST_CHAOS_CRASH_DIR"
)

func init() {
	if sw := crashSwitchFromEnv(os.Getenv, killSelf); sw != nil {
		interceptors = append(interceptors, sw)
	}
}

// crashSwitch kills the worker process right after a listed activity
// returns without error. The activity's side effects have committed by
// then, but Temporal never hears of its completion: a regular activity
// runs again after its start-to-close timeout, and a local activity runs
// again with its workflow task after the workflow task timeout.
type crashSwitch struct {
	interceptor.WorkerInterceptorBase
	every bool
	names map[string]bool
	dir   string
	kill  func()
	// crashing stays locked once a goroutine has decided to crash, so that
	// no other activity that decided to crash reports its completion first.
	crashing sync.Mutex
}

// crashSwitchFromEnv returns the switch the environment asks for, or nil
// when EnvCrashAfter is empty.
func crashSwitchFromEnv(getenv func(string) string, kill func()) *crashSwitch {
	list := strings.TrimSpace(getenv(EnvCrashAfter))
	if list == "" {
		return nil
	}
	sw := &crashSwitch{names: map[string]bool{}, dir: getenv(EnvCrashDir), kill: kill}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "*" {
			sw.every = true
		} else if name != "" {
			sw.names[name] = true
		}
	}
	return sw
}

// InterceptActivity wraps every activity, local ones included.
func (sw *crashSwitch) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &crashAfterActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, sw: sw}
}

type crashAfterActivity struct {
	interceptor.ActivityInboundInterceptorBase
	sw *crashSwitch
}

func (a *crashAfterActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	result, err := a.Next.ExecuteActivity(ctx, in)
	if err == nil {
		a.sw.crashAfter(activity.GetInfo(ctx))
	}
	return result, err
}

// crashAfter kills the process if info's activity is listed and, with a
// marker directory, has no marker yet. Creating the marker with O_EXCL
// makes exactly one of two concurrent completions of an activity crash.
func (sw *crashSwitch) crashAfter(info activity.Info) {
	name := info.ActivityType.Name
	workflowType := ""
	if info.WorkflowType != nil {
		workflowType = info.WorkflowType.Name
	}
	qualified := workflowType + "." + name
	if !sw.every && !sw.names[name] && !sw.names[qualified] {
		return
	}
	if sw.dir != "" {
		marker, err := os.OpenFile(filepath.Join(sw.dir, qualified), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: unable to create the crash marker of %s, not crashing: %v\n", name, err)
			return
		}
		_, err = fmt.Fprintf(marker, "%s %s local=%t attempt=%d\n", info.WorkflowExecution.ID, info.ActivityID, info.IsLocalActivity, info.Attempt)
		if closeErr := marker.Close(); err == nil {
			err = closeErr
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: unable to write the crash marker of %s: %v\n", name, err)
		}
	}
	sw.crashing.Lock()
	fmt.Fprintf(os.Stderr, "chaos: killing the worker after activity %s of workflow %s\n", qualified, info.WorkflowExecution.ID)
	sw.kill()
}

// killSelf sends SIGKILL to this process, as kill -9 would, so no deferred
// call, shutdown hook or last report to Temporal runs.
func killSelf() {
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
