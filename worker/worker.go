// Package worker builds the Temporal worker that runs every workflow and
// activity of the service on one task queue.
package worker

import (
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/workflows"
)

// New returns a worker on taskQueue with the workflows registered under
// their contract names and acts and sweeper registered as activities.
func New(c client.Client, taskQueue string, acts *activities.Activities, sweeper *activities.Sweeper) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		// Activities finish in milliseconds; a stopping worker waits this
		// long for the ones in flight before it gives them back to the server.
		WorkerStopTimeout: 10 * time.Second,
		Interceptors:      interceptors,
	})
	Register(w, acts, sweeper)
	return w
}

// Register adds the workflows and activities to any registry: a worker, or
// the SDK's test environment.
func Register(r sdkworker.Registry, acts *activities.Activities, sweeper *activities.Sweeper) {
	RegisterWorkflows(r)
	r.RegisterActivity(acts)
	r.RegisterActivity(sweeper)
}

// RegisterWorkflows adds the workflows under their contract names; the
// replay tests use it with a WorkflowReplayer.
func RegisterWorkflows(r sdkworker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.FaceLogin, workflow.RegisterOptions{Name: workflows.FaceLoginWorkflow})
	r.RegisterWorkflowWithOptions(workflows.AgentInvitation, workflow.RegisterOptions{Name: workflows.AgentInvitationWorkflow})
	r.RegisterWorkflowWithOptions(workflows.CertificationRequest, workflow.RegisterOptions{Name: workflows.CertificationRequestWorkflow})
	r.RegisterWorkflowWithOptions(workflows.AccountLink, workflow.RegisterOptions{Name: workflows.AccountLinkWorkflow})
	r.RegisterWorkflowWithOptions(workflows.Sweep, workflow.RegisterOptions{Name: workflows.SweepWorkflow})
}
