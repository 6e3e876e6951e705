package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gdyst/accountflows/workflows"
)

// SweepInterval is how often the sweep schedule starts the Sweep workflow.
const SweepInterval = time.Hour

// ScheduleChange is the outcome of EnsureSweepSchedule.
type ScheduleChange string

// The values of ScheduleChange.
const (
	ScheduleCreated   ScheduleChange = "created"
	ScheduleUpdated   ScheduleChange = "updated"
	ScheduleUnchanged ScheduleChange = "unchanged"
)

// EnsureSweepSchedule creates the hourly schedule workflows.SweepScheduleID
// that starts the Sweep workflow on taskQueue. Every worker calls it at
// start, so it is idempotent: a schedule that already exists is kept, and
// only its action is replaced when it names another task queue or workflow
// type (after YST_TASK_QUEUE changed, say). Its interval, pause state and
// history are left as an operator may have set them.
func EnsureSweepSchedule(ctx context.Context, c client.Client, taskQueue string) (ScheduleChange, error) {
	action := sweepAction(taskQueue)
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      workflows.SweepScheduleID,
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: SweepInterval}}},
		Action:  action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		// A sweep missed while the cluster was down runs once when it is
		// back. Older missed sweeps would only repeat the same work.
		CatchupWindow: SweepInterval,
		Note:          "created by yst worker",
	})
	if err == nil {
		return ScheduleCreated, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return "", fmt.Errorf("unable to create schedule %s: %w", workflows.SweepScheduleID, err)
	}

	change := ScheduleUnchanged
	handle := c.ScheduleClient().GetHandle(ctx, workflows.SweepScheduleID)
	err = handle.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			current, ok := in.Description.Schedule.Action.(*client.ScheduleWorkflowAction)
			if ok && current.TaskQueue == taskQueue && current.Workflow == workflows.SweepWorkflow {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			schedule := in.Description.Schedule
			schedule.Action = action
			change = ScheduleUpdated
			return &client.ScheduleUpdate{Schedule: &schedule}, nil
		},
	})
	if err != nil {
		return "", fmt.Errorf("unable to update schedule %s: %w", workflows.SweepScheduleID, err)
	}
	return change, nil
}

func sweepAction(taskQueue string) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		// The schedule appends the start time, so each run has its own ID.
		ID:       workflows.SweepScheduleID,
		Workflow: workflows.SweepWorkflow,
		// No arguments and no StaticSummary: the payload codec would seal
		// both under the data key of the day, so runs would fail and
		// Describe (which this function and the temporal CLI use) would
		// error once that key left YST_DATA_KEY_PREVIOUS. Sweep takes its
		// defaults and reports its progress through SetCurrentDetails.
		TaskQueue: taskQueue,
		// Ends a run that cannot finish before the next one is due, because
		// the overlap policy would otherwise skip every later run.
		WorkflowExecutionTimeout: 50 * time.Minute,
	}
}
