package api

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.uber.org/zap"
)

// errNotReady is the error the SDK returns when Temporal rejects the update
// of update-with-start because the workflow's task keeps failing.
var errNotReady = fmt.Errorf("failed workflow update: %w",
	serviceerror.NewWorkflowNotReady("Unable to perform workflow execution update due to Workflow Task in failed state."))

func TestUpdateWithStart_RetriesWorkflowNotReady(t *testing.T) {
	temporal := &mocks.Client{}
	handle := &mocks.WorkflowUpdateHandle{}
	handle.On("Get", mock.Anything, mock.Anything).Return(nil).Once()
	temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(nil, errNotReady).Twice()
	temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(handle, nil).Once()
	s := &Server{temporal: temporal, log: zap.NewNop()}

	starts := 0
	newStart := func() client.WithStartWorkflowOperation { starts++; return nil }
	update := client.UpdateWorkflowOptions{UpdateID: "login-1", UpdateName: "begin-face-login", WaitForStage: client.WorkflowUpdateStageCompleted}
	if err := s.updateWithStart(context.Background(), newStart, update, nil); err != nil {
		t.Fatalf("updateWithStart = %v, want nil after two rejections", err)
	}
	if starts != 3 {
		t.Errorf("start operations built = %d, want 3: one for each attempt", starts)
	}
	for _, call := range temporal.Calls {
		options := call.Arguments.Get(1).(client.UpdateWithStartWorkflowOptions)
		if options.UpdateOptions.UpdateID != "login-1" {
			t.Errorf("an attempt used update ID %q, want login-1 on every attempt", options.UpdateOptions.UpdateID)
		}
	}
	temporal.AssertExpectations(t)
	handle.AssertExpectations(t)
}

func TestUpdateWithStart_RetriesUpdateTimeout(t *testing.T) {
	timedOut := client.NewWorkflowUpdateServiceTimeoutOrCanceledError(serviceerror.NewDeadlineExceeded("context deadline exceeded"))
	temporal := &mocks.Client{}
	handle := &mocks.WorkflowUpdateHandle{}
	handle.On("Get", mock.Anything, mock.Anything).Return(nil).Once()
	temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(nil, timedOut).Once()
	temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(handle, nil).Once()
	s := &Server{temporal: temporal, log: zap.NewNop()}

	newStart := func() client.WithStartWorkflowOperation { return nil }
	err := s.updateWithStart(context.Background(), newStart, client.UpdateWorkflowOptions{UpdateID: "invitation-2"}, nil)
	if err != nil {
		t.Fatalf("updateWithStart = %v, want nil after one timeout", err)
	}
	temporal.AssertExpectations(t)
	handle.AssertExpectations(t)
}

func TestUpdateWithStart_ReturnsOtherErrorsAtOnce(t *testing.T) {
	unavailable := serviceerror.NewUnavailable("connection refused")
	temporal := &mocks.Client{}
	temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(nil, unavailable).Once()
	s := &Server{temporal: temporal, log: zap.NewNop()}

	newStart := func() client.WithStartWorkflowOperation { return nil }
	err := s.updateWithStart(context.Background(), newStart, client.UpdateWorkflowOptions{UpdateID: "invitation-1"}, nil)
	if !errors.Is(err, unavailable) {
		t.Errorf("updateWithStart = %v, want the Unavailable error", err)
	}
	temporal.AssertExpectations(t)
}

func TestUpdateWithStart_StopsWhenRequestEnds(t *testing.T) {
	temporal := &mocks.Client{}
	temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(nil, errNotReady).Once()
	s := &Server{temporal: temporal, log: zap.NewNop()}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	newStart := func() client.WithStartWorkflowOperation { return nil }
	err := s.updateWithStart(ctx, newStart, client.UpdateWorkflowOptions{UpdateID: "login-2"}, nil)
	var rejected *serviceerror.WorkflowNotReady
	if !errors.As(err, &rejected) {
		t.Errorf("updateWithStart after the request ended = %v, want the WorkflowNotReady error", err)
	}
	temporal.AssertExpectations(t)
}
