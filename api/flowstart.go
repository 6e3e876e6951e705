package api

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// flowStartPatience bounds how long updateWithStart retries an update that
// Temporal could not deliver, counted from the first attempt. It stays
// below the HTTP server's 60 s write timeout.
const flowStartPatience = 45 * time.Second

// flowStartRetryInterval is the wait between those retries.
const flowStartRetryInterval = time.Second

// updateWithStart starts a flow's workflow with update-with-start and stores
// the update's result in result. newStart builds the start operation; the
// SDK runs one at most once, so each attempt needs a new one. Give update a
// fixed UpdateID, so that Temporal deduplicates the attempts.
//
// When workers crash during the flow's first step, the workflow exists but
// cannot take the update until a worker completes its task. Temporal then
// rejects the update at once with WorkflowNotReady once the task has failed
// three times in a row. Otherwise the call can end with
// WorkflowUpdateServiceTimeoutOrCanceledError while the request is still
// open, after about 30 s against the dev server. A 503 in either case would
// leave a flow that no client knows of, so both are retried until
// flowStartPatience has passed. Every other error is returned at once.
func (s *Server) updateWithStart(ctx context.Context, newStart func() client.WithStartWorkflowOperation, update client.UpdateWorkflowOptions, result any) error {
	deadline := time.Now().Add(flowStartPatience)
	for attempt := 1; ; attempt++ {
		attemptCtx, cancel := ctx, context.CancelFunc(func() {})
		if attempt > 1 {
			attemptCtx, cancel = context.WithDeadline(ctx, deadline)
		}
		handle, err := s.temporal.UpdateWithStartWorkflow(attemptCtx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: newStart(),
			UpdateOptions:          update,
		})
		if err == nil {
			err = handle.Get(attemptCtx, result)
		}
		cancel()

		if !undelivered(ctx, err) || time.Now().Add(flowStartRetryInterval).After(deadline) {
			// NOTE: when the retries run out, the workflow usually exists.
			// Once a worker runs it, it stores its rows although the client
			// got 503. The login then expires unseen, and the invitation
			// blocks the next one for that person (INVITATION_PENDING)
			// until it is revoked or expires.
			return err
		}
		s.log.Warn("workflow did not take its first update, retrying",
			zap.String("update_name", update.UpdateName), zap.String("update_id", update.UpdateID),
			zap.Int("attempt", attempt), zap.Error(err))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(flowStartRetryInterval):
		}
	}
}

// undelivered reports whether err means that Temporal could not deliver the
// update to a workflow that exists, while the request ctx is still open.
func undelivered(ctx context.Context, err error) bool {
	var notReady *serviceerror.WorkflowNotReady
	var timedOut *client.WorkflowUpdateServiceTimeoutOrCanceledError
	return errors.As(err, &notReady) || (errors.As(err, &timedOut) && ctx.Err() == nil)
}
