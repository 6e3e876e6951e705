package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// beginLocalActivityOptions govern the local activity that creates a flow's
// rows inside its first workflow task, while the API waits for the
// update-with-start response. Business errors are non-retryable application
// errors, so only transient failures retry, for at most 30 seconds.
var beginLocalActivityOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 200 * time.Millisecond,
		MaximumInterval: 2 * time.Second,
	},
}

// activityOptions govern every regular activity: database writes and
// provider calls finish in seconds, and transient errors retry with backoff
// until the flow's own timer or a person gives up.
var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    500 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
	},
}

// checkActivityOptions govern pulling a result from the provider. A provider
// that stays unreachable for five minutes fails the verification rather than
// leaving the person waiting past any timer.
var checkActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 5 * time.Minute,
	RetryPolicy:            activityOptions.RetryPolicy,
}

// shortActivityOptions govern activities an update waits for: a person is
// waiting on the HTTP response, so they give up after a minute.
var shortActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: time.Minute,
	RetryPolicy:            activityOptions.RetryPolicy,
}
