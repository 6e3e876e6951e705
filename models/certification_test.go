package models_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

// certificationFixture is an uncertified account registered by an agent,
// and the identity the registry names as its legal representative.
type certificationFixture struct {
	*enterpriseFixture
	agent      loggedIn
	rep        models.Identity
	accountRow models.MemberAccount
	deadline   time.Time
}

func newCertificationFixture(t *testing.T, dialect models.Dialect) *certificationFixture {
	t.Helper()
	f := newEnterpriseFixture(t, dialect)
	agent := f.logIn(f.newIdentity("王小明"))
	rep := f.newIdentity("林晓峰")
	account := f.account(agent, f.newEnterprise("广州市认证测试有限公司", rep))
	return &certificationFixture{enterpriseFixture: f, agent: agent, rep: rep, accountRow: account, deadline: f.clock.Now().Add(168 * time.Hour)}
}

// request describes a new request of the agent with the given id.
func (f *certificationFixture) request(id string) models.NewCertificationRequest {
	return models.NewCertificationRequest{
		ID:                 id,
		AccountID:          f.accountRow.ID,
		RequesterID:        f.agent.PersonID,
		ShareTokenHash:     secure.HashToken(secure.NewToken()),
		WorkflowID:         "certification-request/" + id,
		LegalRepNameMasked: identity.MaskName(f.rep.Name),
		ExpiresAt:          f.deadline,
	}
}

// mustCreate creates a request and returns its id.
func (f *certificationFixture) mustCreate() string {
	f.t.Helper()
	id := secure.NewID()
	if err := f.store.CreateCertificationRequest(context.Background(), f.request(id)); err != nil {
		f.t.Fatalf("CreateCertificationRequest error = %v", err)
	}
	return id
}

func (f *certificationFixture) status(id string) models.CertificationRequest {
	f.t.Helper()
	r, err := f.store.CertificationRequest(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func TestCreateCertificationRequest_OneOpenPerAccount(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newCertificationFixture(t, d)
			ctx := context.Background()
			first := f.request(secure.NewID())
			if err := f.store.CreateCertificationRequest(ctx, first); err != nil {
				t.Fatal(err)
			}
			if err := f.store.CreateCertificationRequest(ctx, first); err != nil {
				t.Errorf("retry with the same id: error = %v, want nil", err)
			}
			if err := f.store.CreateCertificationRequest(ctx, f.request(secure.NewID())); !errors.Is(err, models.ErrCertificationRequestOpen) {
				t.Errorf("second open request: error = %v, want ErrCertificationRequestOpen", err)
			}

			if err := f.store.AgreeCertificationRequest(ctx, first.ID); err != nil {
				t.Fatal(err)
			}
			if err := f.store.CreateCertificationRequest(ctx, f.request(secure.NewID())); !errors.Is(err, models.ErrCertificationRequestOpen) {
				t.Errorf("request beside one pending_verification: error = %v, want ErrCertificationRequestOpen", err)
			}

			if _, err := f.store.EndCertificationRequest(ctx, first.ID, models.CertificationRefused, ""); err != nil {
				t.Fatal(err)
			}
			f.mustCreate()

			open, err := f.store.OpenCertificationRequest(ctx, f.accountRow.ID)
			if err != nil || open.ID == first.ID || open.Status != models.CertificationPendingConsent {
				t.Errorf("OpenCertificationRequest = %+v, %v; want the new request", open, err)
			}
			byToken, err := f.store.CertificationRequestByShareToken(ctx, first.ShareTokenHash)
			if err != nil || byToken.ID != first.ID || byToken.Status != models.CertificationRefused {
				t.Errorf("CertificationRequestByShareToken = %+v, %v; want the refused request", byToken, err)
			}
		})
	}
}

func TestCreateCertificationRequest_ConcurrentGiveOne(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newCertificationFixture(t, d)
			const callers = 8
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = f.store.CreateCertificationRequest(context.Background(), f.request(secure.NewID()))
				}()
			}
			wg.Wait()

			created := 0
			for _, err := range errs {
				switch {
				case err == nil:
					created++
				case !errors.Is(err, models.ErrCertificationRequestOpen):
					t.Errorf("error = %v, want nil or ErrCertificationRequestOpen", err)
				}
			}
			if created != 1 {
				t.Errorf("%d requests created, want 1", created)
			}
		})
	}
}

func TestCreateCertificationRequest_CertifiedAccount(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			rep := f.logIn(f.newIdentity("林晓峰"))
			account := f.account(rep, f.newEnterprise("广州市已认证有限公司", rep.Identity))
			err := f.store.CreateCertificationRequest(context.Background(), models.NewCertificationRequest{
				ID:                 secure.NewID(),
				AccountID:          account.ID,
				RequesterID:        rep.PersonID,
				ShareTokenHash:     secure.HashToken(secure.NewToken()),
				WorkflowID:         "certification-request/x",
				LegalRepNameMasked: "林**",
				ExpiresAt:          f.clock.Now().Add(time.Hour),
			})
			if !errors.Is(err, models.ErrAlreadyCertified) {
				t.Errorf("error = %v, want ErrAlreadyCertified", err)
			}
		})
	}
}

func TestAgreeCertificationRequest_MovesToVerification(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newCertificationFixture(t, d)
			ctx := context.Background()
			id := f.mustCreate()
			for range 2 {
				if err := f.store.AgreeCertificationRequest(ctx, id); err != nil {
					t.Fatalf("AgreeCertificationRequest error = %v", err)
				}
			}
			r := f.status(id)
			if r.Status != models.CertificationPendingVerification || r.AgreedAt == nil {
				t.Errorf("after consent: status %s, agreed_at %v", r.Status, r.AgreedAt)
			}
			if got := f.auditActions(f.accountRow.ID); strings.Count(strings.Join(got, ","), models.AuditCertificationAgreed) != 1 {
				t.Errorf("audit actions = %v, want one %s", got, models.AuditCertificationAgreed)
			}

			if _, err := f.store.EndCertificationRequest(ctx, id, models.CertificationCancelled, f.agent.PersonID); err != nil {
				t.Fatal(err)
			}
			if err := f.store.AgreeCertificationRequest(ctx, id); !errors.Is(err, models.ErrConflict) {
				t.Errorf("consent to a cancelled request: error = %v, want ErrConflict", err)
			}
		})
	}
}

func TestRecordCertificationFailure_NeverLowers(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newCertificationFixture(t, d)
			ctx := context.Background()
			id := f.mustCreate()
			for _, n := range []int{1, 2, 1} {
				if err := f.store.RecordCertificationFailure(ctx, id, n); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.status(id).FailedVerifications; got != 2 {
				t.Errorf("failed_verifications = %d, want 2", got)
			}
		})
	}
}

func TestCertifyAccount_CertifiesAndAuthorizes(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newCertificationFixture(t, d)
			ctx := context.Background()
			id := f.mustCreate()
			if err := f.store.AgreeCertificationRequest(ctx, id); err != nil {
				t.Fatal(err)
			}

			repID, err := f.store.CertifyAccount(ctx, id, f.rep)
			if err != nil {
				t.Fatalf("CertifyAccount error = %v", err)
			}
			auditsAfterFirst := len(f.auditActions(f.accountRow.ID))
			again, err := f.store.CertifyAccount(ctx, id, f.rep)
			if err != nil || again != repID {
				t.Errorf("retry = %q, %v; want the same person %q", again, err, repID)
			}
			if n := len(f.auditActions(f.accountRow.ID)); n != auditsAfterFirst {
				t.Errorf("retry added %d audit events", n-auditsAfterFirst)
			}

			r := f.status(id)
			if r.Status != models.CertificationCertified || r.LegalRepPersonID == nil || *r.LegalRepPersonID != repID || r.EndedAt == nil {
				t.Errorf("request = %+v, want certified by %s", r, repID)
			}
			account, err := f.store.EnterpriseAccount(ctx, f.accountRow.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !account.Certified() || account.CertifiedAt == nil {
				t.Errorf("account trust %s, certified_at %v; want certified with a time", account.TrustLevel, account.CertifiedAt)
			}

			repMember, err := f.store.MemberAccount(ctx, f.accountRow.ID, repID)
			if err != nil || !slices.Equal(repMember.Roles, []string{models.RoleLegalRepresentative}) {
				t.Errorf("legal representative's roles = %v, %v; want [legal_representative]", repMember.Roles, err)
			}
			agentMember, err := f.store.MemberAccount(ctx, f.accountRow.ID, f.agent.PersonID)
			if err != nil || !slices.Equal(agentMember.Roles, []string{models.RoleApplicant, models.RoleAgent}) {
				t.Errorf("requester's roles = %v, %v; want [applicant agent]", agentMember.Roles, err)
			}
			agents, err := f.store.Agents(ctx, f.accountRow.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(agents) != 1 || agents[0].PersonID != f.agent.PersonID || agents[0].Via != models.ViaCertification ||
				agents[0].AuthorizedBy == nil || *agents[0].AuthorizedBy != repID {
				t.Errorf("agents = %+v, want the requester via certification authorised by the legal representative", agents)
			}

			actions := f.auditActions(f.accountRow.ID)
			for _, want := range []string{models.AuditAccountCertified, models.AuditLegalRepresentativeAdded, models.AuditAgentAuthorized} {
				if !slices.Contains(actions, want) {
					t.Errorf("audit actions %v lack %s", actions, want)
				}
			}

			// The legal representative's first face login finds the person
			// the certification created.
			if later := f.logIn(f.rep); later.PersonID != repID {
				t.Errorf("legal representative's login found person %s, want %s", later.PersonID, repID)
			}
			if ended, err := f.store.EndCertificationRequest(ctx, id, models.CertificationExpired, ""); err != nil || ended {
				t.Errorf("expiring a certified request: ended %v, error %v; want neither", ended, err)
			}
		})
	}
}

func TestCertifyAccount_KnownLegalRepresentative(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newCertificationFixture(t, d)
			ctx := context.Background()
			rep := f.logIn(f.rep)
			id := f.mustCreate()

			repID, err := f.store.CertifyAccount(ctx, id, f.rep)
			if err != nil {
				t.Fatal(err)
			}
			if repID != rep.PersonID {
				t.Errorf("certified by person %s, want the existing %s", repID, rep.PersonID)
			}
		})
	}
}

func TestCertifyAccount_EndedRequestConflicts(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newCertificationFixture(t, d)
			ctx := context.Background()
			id := f.mustCreate()
			if _, err := f.store.EndCertificationRequest(ctx, id, models.CertificationExpired, ""); err != nil {
				t.Fatal(err)
			}

			if _, err := f.store.CertifyAccount(ctx, id, f.rep); !errors.Is(err, models.ErrConflict) {
				t.Errorf("error = %v, want ErrConflict", err)
			}
			account, err := f.store.EnterpriseAccount(ctx, f.accountRow.ID)
			if err != nil {
				t.Fatal(err)
			}
			if account.Certified() {
				t.Error("an expired request certified the account")
			}
			if _, err := f.store.PersonByIdentity(ctx, f.rep.IDType, f.rep.IDNumber); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("legal representative's person: error = %v, want none created", err)
			}
		})
	}
}

func TestEndCertificationRequest_KeepsFirstOutcome(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newCertificationFixture(t, d)
			ctx := context.Background()
			id := f.mustCreate()

			ended, err := f.store.EndCertificationRequest(ctx, id, models.CertificationCancelled, f.agent.PersonID)
			if err != nil || !ended {
				t.Fatalf("cancel: ended %v, error %v", ended, err)
			}
			ended, err = f.store.EndCertificationRequest(ctx, id, models.CertificationExpired, "")
			if err != nil || ended {
				t.Errorf("expiry after cancel: ended %v, error %v; want neither", ended, err)
			}
			if got := f.status(id).Status; got != models.CertificationCancelled {
				t.Errorf("status = %s, want cancelled", got)
			}
			if _, err := f.store.EndCertificationRequest(ctx, id, models.CertificationCertified, ""); err == nil {
				t.Error("EndCertificationRequest accepted certified as an end")
			}
			if got := f.auditActions(f.accountRow.ID); !slices.Contains(got, models.AuditCertificationCancelled) || slices.Contains(got, models.AuditCertificationExpired) {
				t.Errorf("audit actions = %v, want the cancellation only", got)
			}
		})
	}
}

func TestOverdueCertificationRequests_OnlyOpenPastCutoff(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newCertificationFixture(t, d)
			ctx := context.Background()
			now := f.clock.Now()

			// One account allows one open request, so each request here
			// gets an account of its own.
			makeRequest := func(expiresAt time.Time) string {
				agent := f.logIn(f.newIdentity("陈静"))
				account := f.account(agent, f.newEnterprise("广州市逾期测试有限公司", f.rep))
				in := f.request(secure.NewID())
				in.AccountID, in.RequesterID, in.ExpiresAt = account.ID, agent.PersonID, expiresAt
				if err := f.store.CreateCertificationRequest(ctx, in); err != nil {
					t.Fatal(err)
				}
				return in.ID
			}
			later := makeRequest(now.Add(-time.Hour))
			earlier := makeRequest(now.Add(-2 * time.Hour))
			ended := makeRequest(now.Add(-3 * time.Hour))
			makeRequest(now.Add(time.Hour))
			if _, err := f.store.EndCertificationRequest(ctx, ended, models.CertificationRefused, ""); err != nil {
				t.Fatal(err)
			}

			flows, err := f.store.OverdueCertificationRequests(ctx, now, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, flow := range flows {
				ids = append(ids, flow.ID)
				if flow.WorkflowID != "certification-request/"+flow.ID {
					t.Errorf("workflow id = %q", flow.WorkflowID)
				}
			}
			if !slices.Equal(ids, []string{earlier, later}) {
				t.Errorf("overdue = %v, want [%s %s]", ids, earlier, later)
			}
		})
	}
}
