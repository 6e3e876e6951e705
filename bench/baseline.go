package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/workflows"
)

// The baseline repeats the Temporal work of one face login with the SDK
// alone: an update-with-start whose handler waits for a local activity, two
// signals, a durable timer, two activities, a search-attribute upsert and
// current details. Its activities do nothing, so the difference to the
// product is the product's own work: HTTP, the database, payload
// encryption, the sandbox provider and its callback.
//
// A baseline flow counts as done when its finish activity runs, the point
// at which a face login's session exists. The activity writes the flow's
// id to a pipe that the driver reads, so noticing the end adds no Temporal
// call. Waiting for the workflow's result instead would add a long poll of
// its history, which the product does not make.
const (
	baselineWorkflowName = "BenchBaselineFlow"
	baselineUpdateBegin  = "begin"
	baselineSignal       = "reported"
	baselineKind         = "bench-baseline"
)

// baselineInput has the fields of workflows.FaceLoginInput with synthetic
// values of the same sizes, so that payloads weigh about the same.
type baselineInput struct {
	LoginID          string
	VerificationID   string
	Name             string
	IDType           string
	IDNumber         string
	ClientSecretHash string
	IDHash           string
	SessionTokenHash string
	SessionTTL       time.Duration
	ExpiresAt        time.Time
	CallbackURL      string
}

// baselineVerification is the result of the begin update, shaped like a face login's verification.
type baselineVerification struct {
	ID            string
	ProviderToken string
	LaunchURL     string
	ExpiresAt     time.Time
}

type baselineVerdict struct {
	Status string
}

type baselineResult struct {
	Status   string
	PersonID string
}

// baselineActivities are the stand-ins of BeginFaceLogin,
// CheckVerification and FinishFaceLogin. They do nothing but, for the
// finish, report the flow's end on done.
type baselineActivities struct {
	done *os.File
}

func (*baselineActivities) BaselineBegin(_ context.Context, in baselineInput) (baselineVerification, error) {
	return baselineVerification{ID: in.VerificationID, ProviderToken: in.SessionTokenHash, LaunchURL: in.CallbackURL, ExpiresAt: in.ExpiresAt}, nil
}

func (*baselineActivities) BaselineCheck(context.Context, string) (baselineVerdict, error) {
	return baselineVerdict{Status: "passed"}, nil
}

// BaselineFinish writes the flow's id and a newline to the pipe. A pipe
// write of under 4096 bytes is atomic, so concurrent activities need no lock.
func (a *baselineActivities) BaselineFinish(_ context.Context, loginID string) (baselineResult, error) {
	if _, err := a.done.Write([]byte(loginID + "\n")); err != nil {
		return baselineResult{}, fmt.Errorf("unable to report the end of flow %s: %w", loginID, err)
	}
	return baselineResult{Status: "succeeded", PersonID: loginID}, nil
}

// baselineFlow has the shape of workflows.FaceLogin, step for step, with
// the same activity options.
func baselineFlow(ctx workflow.Context, in baselineInput) (baselineResult, error) {
	var acts *baselineActivities
	status := "pending"
	var verification *baselineVerification
	var beginErr error
	if err := workflow.SetQueryHandler(ctx, workflows.QueryStatus, func() (string, error) { return status, nil }); err != nil {
		return baselineResult{}, err
	}
	err := workflow.SetUpdateHandler(ctx, baselineUpdateBegin, func(ctx workflow.Context) (baselineVerification, error) {
		if err := workflow.Await(ctx, func() bool { return verification != nil || beginErr != nil }); err != nil {
			return baselineVerification{}, err
		}
		if beginErr != nil {
			return baselineVerification{}, beginErr
		}
		return *verification, nil
	})
	if err != nil {
		return baselineResult{}, err
	}

	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 30 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumInterval: 2 * time.Second},
	})
	var v baselineVerification
	if err := workflow.ExecuteLocalActivity(lctx, acts.BaselineBegin, in).Get(lctx, &v); err != nil {
		beginErr = temporal.NewNonRetryableApplicationError("unable to begin", "BeginFailed", err)
		return baselineResult{}, err
	}
	verification = &v
	workflow.SetCurrentDetails(ctx, "等待用户在粤信签小程序完成人脸核验")

	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timer := workflow.NewTimer(timerCtx, in.ExpiresAt.Sub(workflow.Now(ctx)))
	reports := workflow.GetSignalChannel(ctx, baselineSignal)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
	for {
		expired := false
		selector := workflow.NewSelector(ctx)
		selector.AddFuture(timer, func(workflow.Future) { expired = true })
		selector.AddReceive(reports, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		selector.Select(ctx)
		for reports.ReceiveAsync(nil) {
		}
		if expired {
			return baselineResult{Status: "expired"}, nil
		}
		var verdict baselineVerdict
		if err := workflow.ExecuteActivity(actx, acts.BaselineCheck, in.VerificationID).Get(actx, &verdict); err != nil {
			return baselineResult{}, err
		}
		if verdict.Status == "passed" {
			break
		}
	}
	var res baselineResult
	if err := workflow.ExecuteActivity(actx, acts.BaselineFinish, in.LoginID).Get(actx, &res); err != nil {
		return baselineResult{}, err
	}
	status = res.Status
	_ = workflow.UpsertTypedSearchAttributes(ctx, workflows.AttrFlowStatus.ValueSet(status))
	workflow.SetCurrentDetails(ctx, "登录成功，已签发会话")
	return res, nil
}

// runBaselineWorker runs the baseline's worker on taskQueue until ctx
// ends, with the SDK's default data converter and the options the
// product's worker uses. Finished flows are reported on done.
func runBaselineWorker(ctx context.Context, temporalAddress, taskQueue string, done *os.File) error {
	if temporalAddress == "" || taskQueue == "" {
		return errors.New("the baseline worker needs YST_TEMPORAL_ADDRESS and " + envBaselineTaskQueue)
	}
	tc, err := client.DialContext(ctx, baselineClientOptions(temporalAddress, os.Getenv("BENCH_BASELINE_GZIP") != "off"))
	if err != nil {
		return fmt.Errorf("unable to connect to Temporal at %s: %w", temporalAddress, err)
	}
	defer tc.Close()
	w := sdkworker.New(tc, taskQueue, sdkworker.Options{WorkerStopTimeout: 10 * time.Second})
	w.RegisterWorkflowWithOptions(baselineFlow, workflow.RegisterOptions{Name: baselineWorkflowName})
	w.RegisterActivity(&baselineActivities{done: done})
	if err := w.Start(); err != nil {
		return fmt.Errorf("unable to start the baseline worker: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

// baselineClientOptions are the options of the baseline's clients: the
// SDK's defaults, with gzip turned off unless gzip is set.
func baselineClientOptions(temporalAddress string, gzip bool) client.Options {
	opts := client.Options{HostPort: temporalAddress, Logger: quietLogger{}}
	if !gzip {
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	return opts
}

// baselineDriver starts and signals baseline flows with the SDK client,
// as the API and the sandbox's callback do for a face login.
type baselineDriver struct {
	tc        client.Client
	taskQueue string
	waiters   sync.Map // flow id → chan struct{}, closed when the flow is done
}

// readDone reads the flow ids the baseline worker reports on done and
// wakes their waiters, until the worker's end of the pipe closes.
func (d *baselineDriver) readDone(done io.Reader) {
	lines := bufio.NewScanner(done)
	for lines.Scan() {
		if waiter, ok := d.waiters.LoadAndDelete(lines.Text()); ok {
			close(waiter.(chan struct{}))
		}
	}
}

// flow runs one baseline flow: update-with-start, the two signals, then a
// wait until its finish activity has run.
func (d *baselineDriver) flow(ctx context.Context) (flowStats, error) {
	loginID := secure.NewID()
	finished := make(chan struct{})
	d.waiters.Store(loginID, finished)
	defer d.waiters.Delete(loginID)

	expiresAt := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	in := baselineInput{
		LoginID:          loginID,
		VerificationID:   secure.NewID(),
		Name:             "张伟",
		IDType:           "resident_id",
		IDNumber:         "440106198606150018",
		ClientSecretHash: secure.HashToken(secure.NewToken()),
		IDHash:           secure.HashToken(secure.NewToken()),
		SessionTokenHash: secure.HashToken(secure.NewToken()),
		SessionTTL:       2 * time.Hour,
		ExpiresAt:        expiresAt,
		CallbackURL:      "http://127.0.0.1:8080/v1/callbacks/face-verification",
	}

	workflowID := baselineKind + "/" + loginID
	start := d.tc.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       workflowID,
		TaskQueue:                d.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            workflows.FaceLoginSummary,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrFlowKind.ValueSet(baselineKind),
			workflows.AttrFlowStatus.ValueSet("pending"),
			workflows.AttrExpiresAt.ValueSet(expiresAt),
		),
	}, baselineWorkflowName, in)
	handle, err := d.tc.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   baselineUpdateBegin,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return flowStats{}, stepError("update-with-start", err)
	}
	var v baselineVerification
	if err := handle.Get(ctx, &v); err != nil {
		return flowStats{}, stepError("update result", err)
	}

	for _, step := range []string{"signal (callback)", "signal (report)"} {
		if err := d.tc.SignalWorkflow(ctx, workflowID, "", baselineSignal, workflows.VerificationReported{VerificationID: in.VerificationID}); err != nil {
			return flowStats{}, stepError(step, err)
		}
	}

	select {
	case <-finished:
		return flowStats{WorkflowID: workflowID}, nil
	case <-ctx.Done():
		return flowStats{}, stepError("finish", ctx.Err())
	}
}
