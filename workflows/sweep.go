package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gdyst/accountflows/activities"
)

// sweeper is a nil receiver used only to name the sweep activities.
var sweeper *activities.Sweeper

// Defaults of SweepInput.
const (
	// DefaultExpiryGrace leaves a pending flow to its own timer for this long
	// after its deadline, so a flow that is finishing right at its deadline
	// is never raced by the sweep.
	DefaultExpiryGrace = 15 * time.Minute
	// DefaultSessionRetention keeps expired and revoked sessions for a day
	// before they are deleted, so recent ones remain for troubleshooting.
	DefaultSessionRetention = 24 * time.Hour
)

// SweepInput tunes one sweep. The schedule passes no input, so its runs
// take the defaults above.
type SweepInput struct {
	ExpiryGrace      time.Duration
	SessionRetention time.Duration
}

// SweepResult counts what one sweep changed.
type SweepResult struct {
	Expired                  map[string]int
	Terminated               int
	TerminateFailures        int
	SessionsPurged           int64
	IdempotencyRecordsPurged int64
}

// Sweep is the hourly safety net behind every flow's own durable timer: it
// expires what is still pending in the database past its deadline, and
// purges sessions that ended more than SessionRetention ago.
func Sweep(ctx workflow.Context, in SweepInput) (SweepResult, error) {
	if in.ExpiryGrace <= 0 {
		in.ExpiryGrace = DefaultExpiryGrace
	}
	if in.SessionRetention <= 0 {
		in.SessionRetention = DefaultSessionRetention
	}
	now := workflow.Now(ctx)
	ctx = workflow.WithActivityOptions(ctx, sweepActivityOptions)
	workflow.SetCurrentDetails(ctx, "正在将超过期限仍未完成的流程标记为已过期")

	var expired activities.ExpireOverdueResult
	err := workflow.ExecuteActivity(ctx, sweeper.ExpireOverdueFlows, activities.ExpireOverdueInput{
		Cutoff:          now.Add(-in.ExpiryGrace),
		BatchSize:       200,
		MaxBatches:      50,
		TerminateReason: fmt.Sprintf("expired by the hourly sweep: still running %s after its deadline", in.ExpiryGrace),
	}).Get(ctx, &expired)
	if err != nil {
		return SweepResult{}, err
	}

	workflow.SetCurrentDetails(ctx, "正在删除过期会话")
	var purged activities.PurgeResult
	err = workflow.ExecuteActivity(ctx, sweeper.PurgeEndedRecords, activities.PurgeInput{
		SessionsBefore:           now.Add(-in.SessionRetention),
		IdempotencyRecordsBefore: now,
	}).Get(ctx, &purged)
	if err != nil {
		return SweepResult{}, err
	}

	workflow.SetCurrentDetails(ctx, fmt.Sprintf("已完成：%d 个流程标记为已过期，删除 %d 个会话", expired.Total, purged.Sessions))
	return SweepResult{
		Expired:                  expired.Expired,
		Terminated:               expired.Terminated,
		TerminateFailures:        expired.TerminateFailures,
		SessionsPurged:           purged.Sessions,
		IdempotencyRecordsPurged: purged.IdempotencyRecords,
	}, nil
}

// sweepActivityOptions allow a few attempts only, because the next hourly
// run repeats anything a failed run left. The heartbeat timeout notices a
// worker that died in the middle of a long batch loop.
var sweepActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Minute,
	HeartbeatTimeout:    2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
		MaximumAttempts:    5,
	},
}
