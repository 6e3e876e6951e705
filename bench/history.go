package bench

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
)

// historyShape is the average Temporal work of one flow, counted from the
// event histories of sampled workflows. It shows whether the product and
// the baseline do the same Temporal work.
type historyShape struct {
	Flows           int
	Events          float64
	Bytes           float64 // encoded size of the events
	WorkflowTasks   float64 // completed workflow tasks
	Activities      float64 // scheduled activities
	LocalActivities float64 // local-activity markers
	Signals         float64
	Updates         float64 // accepted updates
	Timers          float64 // started timers
}

// readHistoryShape fetches the histories of workflowIDs and averages them.
func readHistoryShape(ctx context.Context, tc client.Client, workflowIDs []string) (historyShape, error) {
	var shape historyShape
	for _, id := range workflowIDs {
		iter := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			event, err := iter.Next()
			if err != nil {
				return historyShape{}, fmt.Errorf("unable to read the history of %s: %w", id, err)
			}
			shape.Events++
			shape.Bytes += float64(proto.Size(event))
			switch event.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				shape.WorkflowTasks++
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				shape.Activities++
			case enumspb.EVENT_TYPE_MARKER_RECORDED:
				shape.LocalActivities++
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
				shape.Signals++
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
				shape.Updates++
			case enumspb.EVENT_TYPE_TIMER_STARTED:
				shape.Timers++
			}
		}
		shape.Flows++
	}
	if shape.Flows > 0 {
		n := float64(shape.Flows)
		shape.Events /= n
		shape.Bytes /= n
		shape.WorkflowTasks /= n
		shape.Activities /= n
		shape.LocalActivities /= n
		shape.Signals /= n
		shape.Updates /= n
		shape.Timers /= n
	}
	return shape, nil
}

func (h historyShape) String() string {
	if h.Flows == 0 {
		return "no sampled flows"
	}
	return fmt.Sprintf("%.1f events of %.0f bytes, %.1f workflow tasks, %.1f activities, %.1f local activities, %.1f signals, %.1f updates, %.1f timers (mean of %d flows)",
		h.Events, h.Bytes, h.WorkflowTasks, h.Activities, h.LocalActivities, h.Signals, h.Updates, h.Timers, h.Flows)
}
