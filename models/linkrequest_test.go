package models_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

const linkLoginName = "gz-link-test"

// linkFixture is a certified account whose applicant set a 法人账号, and a
// person who is not a member of it.
type linkFixture struct {
	*enterpriseFixture
	applicant loggedIn
	requester loggedIn
	target    models.MemberAccount
	deadline  time.Time
}

func newLinkFixture(t *testing.T, dialect models.Dialect) *linkFixture {
	t.Helper()
	f := newEnterpriseFixture(t, dialect)
	applicant := f.logIn(f.newIdentity("林晓峰"))
	requester := f.logIn(f.newIdentity("欧阳明轩"))
	target := f.account(applicant, f.newEnterprise("广州市关联测试有限公司", applicant.Identity))
	if target.TrustLevel != models.TrustCertified {
		t.Fatalf("fixture account is %s, want certified", target.TrustLevel)
	}
	_, err := f.store.SetCredentials(context.Background(), target.ID, applicant.PersonID, linkLoginName, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	return &linkFixture{enterpriseFixture: f, applicant: applicant, requester: requester, target: target, deadline: f.clock.Now().Add(168 * time.Hour)}
}

// request describes a new request of the requester with the given id.
func (f *linkFixture) request(id string) models.NewLinkRequest {
	return models.NewLinkRequest{
		ID:          id,
		AccountID:   f.target.ID,
		RequesterID: f.requester.PersonID,
		WorkflowID:  "account-link/" + id,
		ExpiresAt:   f.deadline,
	}
}

// mustCreate creates a request of the requester and returns its id.
func (f *linkFixture) mustCreate() string {
	f.t.Helper()
	id := secure.NewID()
	if err := f.store.CreateLinkRequest(context.Background(), f.request(id)); err != nil {
		f.t.Fatalf("CreateLinkRequest error = %v", err)
	}
	return id
}

func (f *linkFixture) linkRequest(id string) models.AccountLinkRequest {
	f.t.Helper()
	r, err := f.store.LinkRequest(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// agentRows counts the requester's current agent memberships of the account.
func (f *linkFixture) agentRows() int64 {
	f.t.Helper()
	var n int64
	err := f.store.DB().Model(&models.Membership{}).
		Where("enterprise_account_id = ? AND person_id = ? AND role = ? AND revoked_at IS NULL", f.target.ID, f.requester.PersonID, models.RoleAgent).
		Count(&n).Error
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestLinkTarget_Rules(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newLinkFixture(t, d)
			ctx := context.Background()

			got, err := f.store.LinkTarget(ctx, f.requester.PersonID, " GZ-Link-Test ", f.target.USCC)
			if err != nil || got.ID != f.target.ID {
				t.Fatalf("LinkTarget = %s, %v; want the account", got.ID, err)
			}
			notFound := []struct{ loginName, uscc string }{
				{"gz-link-other", f.target.USCC},
				{linkLoginName, f.newEnterprise("另一家公司", f.requester.Identity).USCC},
				{"no", f.target.USCC},
			}
			for _, c := range notFound {
				if _, err := f.store.LinkTarget(ctx, f.requester.PersonID, c.loginName, c.uscc); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("LinkTarget(%q, %q) error = %v, want ErrNotFound", c.loginName, c.uscc, err)
				}
			}
			if _, err := f.store.LinkTarget(ctx, f.applicant.PersonID, linkLoginName, f.target.USCC); !errors.Is(err, models.ErrAlreadyMember) {
				t.Errorf("applicant: error = %v, want ErrAlreadyMember", err)
			}

			f.mustCreate()
			if _, err := f.store.LinkTarget(ctx, f.requester.PersonID, linkLoginName, f.target.USCC); !errors.Is(err, models.ErrLinkRequestOpen) {
				t.Errorf("with an open request: error = %v, want ErrLinkRequestOpen", err)
			}
		})
	}
}

func TestLinkTarget_UncertifiedAccount(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newLinkFixture(t, d)
			ctx := context.Background()
			agent := f.logIn(f.newIdentity("王小明"))
			uncertified := f.account(agent, f.newEnterprise("佛山市未认证有限公司", f.newIdentity("陈思远")))
			if _, err := f.store.SetCredentials(ctx, uncertified.ID, agent.PersonID, "fs-uncertified", "correct horse battery"); err != nil {
				t.Fatal(err)
			}

			_, err := f.store.LinkTarget(ctx, f.requester.PersonID, "fs-uncertified", uncertified.USCC)
			if !errors.Is(err, models.ErrAccountNotCertified) {
				t.Errorf("LinkTarget error = %v, want ErrAccountNotCertified", err)
			}
			in := f.request(secure.NewID())
			in.AccountID = uncertified.ID
			if err := f.store.CreateLinkRequest(ctx, in); !errors.Is(err, models.ErrAccountNotCertified) {
				t.Errorf("CreateLinkRequest error = %v, want ErrAccountNotCertified", err)
			}
		})
	}
}

func TestCreateLinkRequest_OneOpenPerRequester(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newLinkFixture(t, d)
			ctx := context.Background()
			id := f.mustCreate()

			if err := f.store.CreateLinkRequest(ctx, f.request(id)); err != nil {
				t.Errorf("retry with the same id: error = %v, want nil", err)
			}
			if err := f.store.CreateLinkRequest(ctx, f.request(secure.NewID())); !errors.Is(err, models.ErrLinkRequestOpen) {
				t.Errorf("second open request: error = %v, want ErrLinkRequestOpen", err)
			}
			r := f.linkRequest(id)
			if r.Status != models.LinkPendingApproval || r.RequesterPersonID != f.requester.PersonID || r.WorkflowID != "account-link/"+id {
				t.Errorf("stored request = %+v", r)
			}

			if _, err := f.store.EndLinkRequest(ctx, id, models.LinkRejected, f.applicant.PersonID); err != nil {
				t.Fatal(err)
			}
			f.mustCreate()
			if got := f.auditActions(f.target.ID); strings.Count(strings.Join(got, ","), models.AuditLinkRequested) != 2 {
				t.Errorf("audit actions = %v, want two %s", got, models.AuditLinkRequested)
			}
		})
	}
}

func TestCreateLinkRequest_ConcurrentGiveOne(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newLinkFixture(t, d)
			const callers = 8
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() { errs[i] = f.store.CreateLinkRequest(context.Background(), f.request(secure.NewID())) })
			}
			wg.Wait()

			created := 0
			for _, err := range errs {
				switch {
				case err == nil:
					created++
				case !errors.Is(err, models.ErrLinkRequestOpen):
					t.Errorf("unexpected error %v", err)
				}
			}
			if created != 1 {
				t.Errorf("%d requests created, want 1", created)
			}
		})
	}
}

func TestEndLinkRequest_ApprovalMakesAgent(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newLinkFixture(t, d)
			ctx := context.Background()
			id := f.mustCreate()

			approved, err := f.store.EndLinkRequest(ctx, id, models.LinkApproved, f.applicant.PersonID)
			if err != nil {
				t.Fatal(err)
			}
			if approved.Status != models.LinkApproved || approved.DecidedBy == nil || *approved.DecidedBy != f.applicant.PersonID || approved.EndedAt == nil {
				t.Errorf("approved request = %+v", approved)
			}
			stored := f.linkRequest(id)
			if stored.Status != models.LinkApproved || stored.DecidedBy == nil || *stored.DecidedBy != f.applicant.PersonID {
				t.Errorf("stored request = %+v", stored)
			}

			member, err := f.store.MemberAccount(ctx, f.target.ID, f.requester.PersonID)
			if err != nil || strings.Join(member.Roles, ",") != models.RoleAgent {
				t.Fatalf("requester's roles = %v, %v; want [agent]", member.Roles, err)
			}
			agents, err := f.store.Agents(ctx, f.target.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(agents) != 1 || agents[0].Via != models.ViaLinkApproval || agents[0].AuthorizedBy == nil || *agents[0].AuthorizedBy != f.applicant.PersonID {
				t.Errorf("agents = %+v, want the requester via link_approval authorised by the applicant", agents)
			}

			if _, err := f.store.EndLinkRequest(ctx, id, models.LinkApproved, f.applicant.PersonID); err != nil {
				t.Errorf("retried approval: error = %v, want nil", err)
			}
			if n := f.agentRows(); n != 1 {
				t.Errorf("%d agent memberships after a retried approval, want 1", n)
			}
			after, err := f.store.EndLinkRequest(ctx, id, models.LinkRejected, f.applicant.PersonID)
			if !errors.Is(err, models.ErrConflict) || after.Status != models.LinkApproved {
				t.Errorf("rejecting an approved request = %s, %v; want approved and ErrConflict", after.Status, err)
			}

			want := []string{models.AuditAgentAuthorized, models.AuditLinkApproved, models.AuditLinkRequested}
			got := f.auditActions(f.target.ID)
			for _, action := range want {
				if strings.Count(strings.Join(got, ","), action) != 1 {
					t.Errorf("audit actions = %v, want one %s", got, action)
				}
			}
		})
	}
}

func TestEndLinkRequest_ConcurrentDecisionsKeepOne(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newLinkFixture(t, d)
			id := f.mustCreate()
			const callers = 16
			statuses := make([]string, callers)
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				statuses[i] = models.LinkApproved
				if i%2 == 1 {
					statuses[i] = models.LinkRejected
				}
				wg.Go(func() {
					_, errs[i] = f.store.EndLinkRequest(context.Background(), id, statuses[i], f.applicant.PersonID)
				})
			}
			wg.Wait()

			final := f.linkRequest(id).Status
			for i, err := range errs {
				wantConflict := statuses[i] != final
				if wantConflict != errors.Is(err, models.ErrConflict) || (!wantConflict && err != nil) {
					t.Errorf("caller %d (%s) error = %v with the request %s", i, statuses[i], err, final)
				}
			}
			wantAgents := int64(0)
			if final == models.LinkApproved {
				wantAgents = 1
			}
			if n := f.agentRows(); n != wantAgents {
				t.Errorf("%d agent memberships with the request %s, want %d", n, final, wantAgents)
			}
		})
	}
}

func TestEndLinkRequest_EndingsAndActors(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newLinkFixture(t, d)
			ctx := context.Background()

			cancelled := f.mustCreate()
			if _, err := f.store.EndLinkRequest(ctx, cancelled, models.LinkCancelled, f.requester.PersonID); err != nil {
				t.Fatal(err)
			}
			expired := f.mustCreate()
			r, err := f.store.EndLinkRequest(ctx, expired, models.LinkExpired, "")
			if err != nil || r.DecidedBy != nil {
				t.Errorf("expiry = %+v, %v; want no decider", r, err)
			}
			if _, err := f.store.EndLinkRequest(ctx, f.mustCreate(), models.LinkPendingApproval, ""); err == nil {
				t.Error("ending a request as pending_approval succeeded")
			}
			if _, err := f.store.EndLinkRequest(ctx, secure.NewID(), models.LinkRejected, f.applicant.PersonID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown id: error = %v, want ErrNotFound", err)
			}
			if n := f.agentRows(); n != 0 {
				t.Errorf("%d agent memberships without an approval", n)
			}
			got := strings.Join(f.auditActions(f.target.ID), ",")
			for _, action := range []string{models.AuditLinkCancelled, models.AuditLinkExpired} {
				if !strings.Contains(got, action) {
					t.Errorf("audit actions = %s, want %s", got, action)
				}
			}
		})
	}
}

func TestLinkRequestsOfAccount_MaskedAndFiltered(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newLinkFixture(t, d)
			ctx := context.Background()
			rejected := f.mustCreate()
			if _, err := f.store.EndLinkRequest(ctx, rejected, models.LinkRejected, f.applicant.PersonID); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Second)
			pending := f.mustCreate()

			all, err := f.store.LinkRequestsOfAccount(ctx, f.target.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 || all[0].ID != pending || all[1].ID != rejected {
				t.Fatalf("list = %+v, want the pending request, then the rejected one", all)
			}
			item := all[0]
			if item.RequesterNameMasked == "" || item.RequesterNameMasked == f.requester.Identity.Name {
				t.Errorf("requester name = %q, want it masked", item.RequesterNameMasked)
			}
			if item.RequesterIDNumberMasked == "" || strings.Contains(item.RequesterIDNumberMasked, f.requester.Identity.IDNumber[6:14]) {
				t.Errorf("requester ID number = %q, want it masked", item.RequesterIDNumberMasked)
			}

			only, err := f.store.LinkRequestsOfAccount(ctx, f.target.ID, models.LinkPendingApproval)
			if err != nil || len(only) != 1 || only[0].ID != pending {
				t.Errorf("pending list = %+v, %v; want the pending request only", only, err)
			}
		})
	}
}

func TestCountPendingLinkRequests_SkipsEndedAndOverdue(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newLinkFixture(t, d)
			ctx := context.Background()
			count := func() int64 {
				t.Helper()
				n, err := f.store.CountPendingLinkRequests(ctx, f.target.ID)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := count(); n != 0 {
				t.Errorf("count without requests = %d", n)
			}
			id := f.mustCreate()
			if n := count(); n != 1 {
				t.Errorf("count with one pending request = %d, want 1", n)
			}
			f.clock.Advance(169 * time.Hour)
			if n := count(); n != 0 {
				t.Errorf("count past the expiry = %d, want 0", n)
			}

			overdue, err := f.store.OverdueLinkRequests(ctx, f.clock.Now(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(overdue) != 1 || overdue[0].ID != id || overdue[0].WorkflowID != "account-link/"+id || !overdue[0].ExpiresAt.Equal(f.deadline) {
				t.Fatalf("overdue = %+v, want the request", overdue)
			}
			if early, err := f.store.OverdueLinkRequests(ctx, f.deadline.Add(-time.Second), 10); err != nil || len(early) != 0 {
				t.Errorf("overdue before the deadline = %+v, %v; want none", early, err)
			}
			if _, err := f.store.EndLinkRequest(ctx, id, models.LinkExpired, ""); err != nil {
				t.Fatal(err)
			}
			if after, err := f.store.OverdueLinkRequests(ctx, f.clock.Now(), 10); err != nil || len(after) != 0 {
				t.Errorf("overdue after the expiry = %+v, %v; want none", after, err)
			}
		})
	}
}
