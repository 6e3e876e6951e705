package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"

	"github.com/gdyst/accountflows/models"
)

// WorkflowTerminator ends a running workflow. client.Client implements it.
type WorkflowTerminator interface {
	// TerminateWorkflow returns a *serviceerror.NotFound when the workflow
	// does not exist or has already closed.
	TerminateWorkflow(ctx context.Context, workflowID, runID, reason string, details ...any) error
}

// Sweeper holds the dependencies of the sweep activities, which expire
// flows left pending in the database and purge old rows. The worker
// registers one value of it beside Activities.
type Sweeper struct {
	store     *models.Store
	workflows WorkflowTerminator
	expirers  []expirer
}

// expirer ends, in the database, the overdue flows of one table.
type expirer struct {
	table string
	// expire marks as expired at most limit flows still pending whose
	// deadline is before cutoff, and returns the flows it changed. A flow
	// that ended otherwise in the meantime keeps its outcome and is left out.
	expire func(ctx context.Context, cutoff time.Time, limit int) ([]models.OverdueFlow, error)
}

// NewSweeper returns the sweep activities over store. workflows terminates
// the workflows of the flows that the sweep expires.
func NewSweeper(store *models.Store, workflows WorkflowTerminator) (*Sweeper, error) {
	if store == nil || workflows == nil {
		return nil, errors.New("activities: NewSweeper needs a store and a workflow terminator")
	}
	s := &Sweeper{store: store, workflows: workflows}
	// Each flow with a deadline adds one entry: a function that expires
	// its overdue rows, like expireFaceLogins.
	s.expirers = []expirer{
		{table: "face_logins", expire: s.expireFaceLogins},
		{table: "agent_invitations", expire: s.expireInvitations},
		{table: "certification_requests", expire: s.expireCertificationRequests},
		{table: "account_link_requests", expire: s.expireLinkRequests},
	}
	return s, nil
}

// ExpireOverdueInput selects the flows the sweep expires.
type ExpireOverdueInput struct {
	// Cutoff is the deadline before which a flow still pending is overdue.
	Cutoff time.Time
	// BatchSize bounds the rows read and changed per query.
	BatchSize int
	// MaxBatches bounds the batches per table in one run. The next run
	// continues where this one stopped.
	MaxBatches int
	// TerminateReason is recorded on each workflow the sweep terminates.
	TerminateReason string
}

// ExpireOverdueResult counts what the sweep changed.
type ExpireOverdueResult struct {
	// Expired counts the flows marked expired, by table.
	Expired map[string]int
	// Total is the sum of Expired.
	Total int
	// Terminated counts the workflows that were still running and were terminated.
	Terminated int
	// TerminateFailures counts the workflows that could not be terminated;
	// their rows are expired all the same.
	TerminateFailures int
}

// ExpireOverdueFlows expires every flow still pending in the database past
// in.Cutoff and terminates its workflow if that still runs.
//
// The database is changed first, by the same conditional update that ends
// a flow normally, so a flow that succeeds at the same moment keeps its
// success. Only then is the workflow terminated: its own timer fired long
// before the cutoff, so a workflow still running is stuck (a failing
// workflow task, or an activity retrying against a dependency that is
// down). A workflow that closed meanwhile is not found, which is fine.
func (s *Sweeper) ExpireOverdueFlows(ctx context.Context, in ExpireOverdueInput) (ExpireOverdueResult, error) {
	if in.BatchSize <= 0 || in.MaxBatches <= 0 {
		return ExpireOverdueResult{}, errors.New("activities: ExpireOverdueFlows needs a positive BatchSize and MaxBatches")
	}
	log := activity.GetLogger(ctx)
	result := ExpireOverdueResult{Expired: map[string]int{}}
	for _, e := range s.expirers {
		for batch := 0; batch < in.MaxBatches; batch++ {
			flows, err := e.expire(ctx, in.Cutoff, in.BatchSize)
			if err != nil {
				return result, fmt.Errorf("unable to expire overdue %s: %w", e.table, err)
			}
			result.Expired[e.table] += len(flows)
			result.Total += len(flows)
			for _, flow := range flows {
				s.terminate(ctx, flow, in.TerminateReason, &result)
			}
			activity.RecordHeartbeat(ctx, result)
			// A short batch means no more overdue rows, or rows that ended
			// concurrently. The next run picks up anything left.
			if len(flows) < in.BatchSize {
				break
			}
		}
		if n := result.Expired[e.table]; n > 0 {
			log.Info("expired overdue flows", "table", e.table, "count", n)
		}
	}
	return result, nil
}

// terminate ends flow's workflow if it still runs. A failure is logged and
// counted, not returned: the row is already expired, so a retry would not
// find the flow again, and the workflow ends as expired by itself once it
// can run, because its deadline has passed.
func (s *Sweeper) terminate(ctx context.Context, flow models.OverdueFlow, reason string, result *ExpireOverdueResult) {
	log := activity.GetLogger(ctx)
	err := s.workflows.TerminateWorkflow(ctx, flow.WorkflowID, "", reason)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		result.TerminateFailures++
		log.Warn("unable to terminate the workflow of an expired flow", "workflow_id", flow.WorkflowID, "error", err)
	default:
		result.Terminated++
		log.Info("terminated the workflow of an expired flow", "workflow_id", flow.WorkflowID, "expires_at", flow.ExpiresAt)
	}
}

// expireFaceLogins marks overdue face logins expired through the same
// Store.EndFaceLogin the workflow calls, and keeps those it changed.
func (s *Sweeper) expireFaceLogins(ctx context.Context, cutoff time.Time, limit int) ([]models.OverdueFlow, error) {
	overdue, err := s.store.OverdueFaceLogins(ctx, cutoff, limit)
	if err != nil {
		return nil, err
	}
	expired := make([]models.OverdueFlow, 0, len(overdue))
	for _, flow := range overdue {
		if err := s.store.EndFaceLogin(ctx, flow.ID, models.LoginExpired, ""); err != nil {
			return nil, fmt.Errorf("unable to expire face login %s: %w", flow.ID, err)
		}
		login, err := s.store.FaceLogin(ctx, flow.ID)
		if err != nil {
			return nil, fmt.Errorf("unable to read face login %s: %w", flow.ID, err)
		}
		if login.Status == models.LoginExpired {
			expired = append(expired, flow)
		}
	}
	return expired, nil
}

// expireInvitations marks overdue agent invitations expired through the
// same Store.EndInvitation the workflow calls, and keeps those it changed.
func (s *Sweeper) expireInvitations(ctx context.Context, cutoff time.Time, limit int) ([]models.OverdueFlow, error) {
	overdue, err := s.store.OverdueInvitations(ctx, cutoff, limit)
	if err != nil {
		return nil, err
	}
	expired := make([]models.OverdueFlow, 0, len(overdue))
	for _, flow := range overdue {
		ended, err := s.store.EndInvitation(ctx, flow.ID, models.InvitationExpired, "")
		if err != nil {
			return nil, fmt.Errorf("unable to expire agent invitation %s: %w", flow.ID, err)
		}
		if ended {
			expired = append(expired, flow)
		}
	}
	return expired, nil
}

// PurgeInput names the cutoffs of the rows the sweep deletes.
type PurgeInput struct {
	// SessionsBefore: sessions that expired or were revoked before it go.
	SessionsBefore time.Time
	// IdempotencyRecordsBefore: idempotency records that expired before it go.
	IdempotencyRecordsBefore time.Time
}

// PurgeResult counts the deleted rows.
type PurgeResult struct {
	Sessions           int64
	IdempotencyRecords int64
}

// PurgeEndedRecords deletes sessions and idempotency records that ended
// before the cutoffs. Deleting is idempotent, so a retry is harmless.
func (s *Sweeper) PurgeEndedRecords(ctx context.Context, in PurgeInput) (PurgeResult, error) {
	sessions, err := s.store.PurgeSessions(ctx, in.SessionsBefore)
	if err != nil {
		return PurgeResult{}, fmt.Errorf("unable to purge sessions: %w", err)
	}
	records, err := s.store.PurgeIdempotencyRecords(ctx, in.IdempotencyRecordsBefore)
	if err != nil {
		return PurgeResult{}, fmt.Errorf("unable to purge idempotency records: %w", err)
	}
	activity.GetLogger(ctx).Info("purged ended records", "sessions", sessions, "idempotency_records", records)
	return PurgeResult{Sessions: sessions, IdempotencyRecords: records}, nil
}
