package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

// clock is a settable time source for Store.SetClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// enterpriseFixture is a store on one dialect with a clock the test controls.
type enterpriseFixture struct {
	t     *testing.T
	store *models.Store
	clock *clock
	rand  *rand.Rand
}

func newEnterpriseFixture(t *testing.T, dialect models.Dialect) *enterpriseFixture {
	t.Helper()
	store := testenv.OpenStore(t, dialect)
	c := newClock()
	store.SetClock(c.Now)
	return &enterpriseFixture{t: t, store: store, clock: c, rand: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// loggedIn is a person with a live person session.
type loggedIn struct {
	Identity models.Identity
	PersonID string
	Session  models.Session
}

// logIn stores a successful face login of person, as the face-login flow
// does, and returns the person and their session.
func (f *enterpriseFixture) logIn(person models.Identity) loggedIn {
	f.t.Helper()
	ctx := context.Background()
	loginID := secure.NewID()
	err := f.store.CreateFaceLogin(ctx, models.NewFaceLogin{
		LoginID:           loginID,
		VerificationID:    secure.NewID(),
		WorkflowID:        "face-login/" + loginID,
		Provider:          "sandbox",
		ProviderTokenHash: secure.HashToken(secure.NewToken()),
		ClientSecretHash:  secure.HashToken(secure.NewToken()),
		IDHash:            f.store.LookupHash(person.IDType, person.IDNumber),
		ExpiresAt:         f.clock.Now().Add(10 * time.Minute),
	})
	if err != nil {
		f.t.Fatal(err)
	}
	tokenHash := secure.HashToken(secure.NewToken())
	personID, err := f.store.SucceedFaceLogin(ctx, loginID, person, tokenHash, f.clock.Now().Add(2*time.Hour))
	if err != nil {
		f.t.Fatal(err)
	}
	session, err := f.store.SessionByToken(ctx, tokenHash)
	if err != nil {
		f.t.Fatal(err)
	}
	return loggedIn{Identity: person, PersonID: personID, Session: session}
}

func (f *enterpriseFixture) newIdentity(name string) models.Identity {
	return models.Identity{IDType: string(identity.ResidentID), IDNumber: identitytest.RandomResidentID(f.rand), Name: name}
}

// newEnterprise returns an active registry entry whose legal representative is rep.
func (f *enterpriseFixture) newEnterprise(name string, rep models.Identity) registry.Enterprise {
	return registry.Enterprise{
		USCC:     identitytest.RandomUSCC(f.rand),
		Name:     name,
		LegalRep: registry.LegalRepresentative{Name: rep.Name, IDType: identity.DocType(rep.IDType), IDNumber: rep.IDNumber},
		Status:   registry.StatusActive,
	}
}

// account registers an account for enterprise with p as applicant.
func (f *enterpriseFixture) account(p loggedIn, e registry.Enterprise) models.MemberAccount {
	f.t.Helper()
	a, err := f.store.CreateEnterpriseAccount(context.Background(), p.PersonID, e.Name, e)
	if err != nil {
		f.t.Fatalf("CreateEnterpriseAccount error = %v", err)
	}
	return a
}

func (f *enterpriseFixture) auditActions(accountID string) []string {
	f.t.Helper()
	items, _, err := f.store.AuditEvents(context.Background(), accountID, models.MaxAuditPageSize, "")
	if err != nil {
		f.t.Fatal(err)
	}
	var actions []string
	for _, item := range items {
		actions = append(actions, item.Action)
	}
	return actions
}

func TestCreateEnterpriseAccountTrustLevel(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			rep := f.logIn(f.newIdentity("林晓峰"))
			agent := f.logIn(f.newIdentity("王小明"))
			e := f.newEnterprise("广州市测试科技有限公司", rep.Identity)

			certified := f.account(rep, e)
			if certified.TrustLevel != models.TrustCertified || certified.CertifiedAt == nil {
				t.Errorf("legal representative's account: trust %s, certified_at %v; want certified with a time", certified.TrustLevel, certified.CertifiedAt)
			}
			if strings.Join(certified.Roles, ",") != "applicant,legal_representative" {
				t.Errorf("legal representative's roles = %v", certified.Roles)
			}

			uncertified := f.account(agent, e)
			if uncertified.TrustLevel != models.TrustUncertified || uncertified.CertifiedAt != nil {
				t.Errorf("agent's account: trust %s, certified_at %v; want uncertified without a time", uncertified.TrustLevel, uncertified.CertifiedAt)
			}
			if strings.Join(uncertified.Roles, ",") != "applicant,agent" {
				t.Errorf("agent's roles = %v", uncertified.Roles)
			}
			if uncertified.ID == certified.ID {
				t.Error("two applicants share one account")
			}
			if got := f.auditActions(certified.ID); strings.Join(got, ",") != models.AuditAccountCreated {
				t.Errorf("audit actions = %v, want [account_created]", got)
			}
		})
	}
}

func TestCreateEnterpriseAccountNeedsRepresentativeName(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			p := f.logIn(f.newIdentity("林晓峰"))
			registered := p.Identity
			registered.Name = "林晓锋"
			e := f.newEnterprise("广州市测试科技有限公司", registered)

			a := f.account(p, e)
			if a.TrustLevel != models.TrustUncertified {
				t.Errorf("same ID number, other name: trust %s, want uncertified", a.TrustLevel)
			}
		})
	}
}

func TestCreateEnterpriseAccountErrors(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			ctx := context.Background()
			p := f.logIn(f.newIdentity("陈思远"))
			e := f.newEnterprise("佛山市测试制造有限公司", p.Identity)

			_, err := f.store.CreateEnterpriseAccount(ctx, p.PersonID, "佛山市另一家制造有限公司", e)
			if !errors.Is(err, models.ErrEnterpriseNameMismatch) {
				t.Errorf("wrong name: error = %v, want ErrEnterpriseNameMismatch", err)
			}

			closed := e
			closed.Status = registry.StatusDeregistered
			_, err = f.store.CreateEnterpriseAccount(ctx, p.PersonID, closed.Name, closed)
			if !errors.Is(err, models.ErrEnterpriseInactive) {
				t.Errorf("deregistered: error = %v, want ErrEnterpriseInactive", err)
			}

			_, err = f.store.CreateEnterpriseAccount(ctx, secure.NewID(), e.Name, e)
			if !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown person: error = %v, want ErrNotFound", err)
			}

			f.account(p, e)
			_, err = f.store.CreateEnterpriseAccount(ctx, p.PersonID, e.Name, e)
			if !errors.Is(err, models.ErrAccountExists) {
				t.Errorf("second account: error = %v, want ErrAccountExists", err)
			}
		})
	}
}

func TestCreateEnterpriseAccountNameSpellings(t *testing.T) {
	const registered = "广州市示例科技有限公司（番禺分公司）"
	tests := []struct {
		name    string
		claimed string
		match   bool
	}{
		{"as registered", registered, true},
		{"half-width brackets", "广州市示例科技有限公司(番禺分公司)", true},
		{"mixed brackets", "广州市示例科技有限公司(番禺分公司）", true},
		{"spaces", " 广州市示例科技有限公司 （番禺分公司） ", true},
		{"ideographic space", "广州市示例科技有限公司\u3000(番禺分公司)", true},
		{"lenticular brackets", "广州市示例科技有限公司【番禺分公司】", false},
		{"missing bracket", "广州市示例科技有限公司（番禺分公司", false},
		{"other branch", "广州市示例科技有限公司（天河分公司）", false},
		{"parent company", "广州市示例科技有限公司", false},
		{"empty", "", false},
	}
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			rep := f.newIdentity("陈思远")
			e := f.newEnterprise(registered, rep)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					p := f.logIn(f.newIdentity("王小明"))
					a, err := f.store.CreateEnterpriseAccount(context.Background(), p.PersonID, tt.claimed, e)
					if tt.match {
						if err != nil {
							t.Fatalf("error = %v, want a match", err)
						}
						if a.EnterpriseName != registered {
							t.Errorf("stored name = %q, want the registry's %q", a.EnterpriseName, registered)
						}
						return
					}
					if !errors.Is(err, models.ErrEnterpriseNameMismatch) {
						t.Errorf("error = %v, want ErrEnterpriseNameMismatch", err)
					}
				})
			}
		})
	}
}

func TestCreateEnterpriseAccountConcurrent(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			p := f.logIn(f.newIdentity("黄丽华"))
			e := f.newEnterprise("深圳市测试贸易有限公司", p.Identity)

			const callers = 8
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					_, errs[i] = f.store.CreateEnterpriseAccount(context.Background(), p.PersonID, e.Name, e)
				})
			}
			wg.Wait()

			created := 0
			for _, err := range errs {
				switch {
				case err == nil:
					created++
				case !errors.Is(err, models.ErrAccountExists):
					t.Errorf("error = %v, want nil or ErrAccountExists", err)
				}
			}
			if created != 1 {
				t.Errorf("%d calls created an account, want 1", created)
			}
			var accounts, memberships, events int64
			db := f.store.DB()
			db.Model(&models.EnterpriseAccount{}).Where("uscc = ?", e.USCC).Count(&accounts)
			db.Model(&models.Membership{}).Where("person_id = ?", p.PersonID).Count(&memberships)
			db.Model(&models.AuditEvent{}).Where("action = ?", models.AuditAccountCreated).Count(&events)
			if accounts != 1 || memberships != 2 || events != 1 {
				t.Errorf("stored %d accounts, %d memberships, %d audit events; want 1, 2, 1", accounts, memberships, events)
			}
		})
	}
}

func TestAccountsOfPerson(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			ctx := context.Background()
			p := f.logIn(f.newIdentity("欧阳明轩"))
			other := f.logIn(f.newIdentity("吴敏"))

			none, err := f.store.AccountsOfPerson(ctx, p.PersonID)
			if err != nil || len(none) != 0 {
				t.Fatalf("before any account: %v, %v; want an empty list", none, err)
			}
			first := f.account(p, f.newEnterprise("东莞市测试物流有限公司", p.Identity))
			f.clock.Advance(time.Second)
			second := f.account(p, f.newEnterprise("东莞市另一物流有限公司", other.Identity))

			accounts, err := f.store.AccountsOfPerson(ctx, p.PersonID)
			if err != nil {
				t.Fatal(err)
			}
			if len(accounts) != 2 || accounts[0].ID != first.ID || accounts[1].ID != second.ID {
				t.Fatalf("accounts = %+v, want the two accounts oldest first", accounts)
			}
			if accounts[0].TrustLevel != models.TrustCertified || !accounts[0].HasRole(models.RoleLegalRepresentative) {
				t.Errorf("first account = %+v, want certified with role legal_representative", accounts[0])
			}
			if accounts[1].TrustLevel != models.TrustUncertified || !accounts[1].HasRole(models.RoleAgent) {
				t.Errorf("second account = %+v, want uncertified with role agent", accounts[1])
			}

			if _, err := f.store.MemberAccount(ctx, first.ID, other.PersonID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("MemberAccount for a non-member: error = %v, want ErrNotFound", err)
			}
			if _, err := f.store.MemberAccount(ctx, secure.NewID(), p.PersonID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("MemberAccount for an unknown account: error = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestStartEnterpriseSession(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			ctx := context.Background()
			p := f.logIn(f.newIdentity("周建国"))
			stranger := f.logIn(f.newIdentity("何婉婷"))
			a := f.account(p, f.newEnterprise("中山市测试农业专业合作社", p.Identity))

			tokenHash := secure.HashToken(secure.NewToken())
			_, session, err := f.store.StartEnterpriseSession(ctx, p.Session, a.ID, tokenHash, f.clock.Now().Add(24*time.Hour))
			if err != nil {
				t.Fatalf("StartEnterpriseSession error = %v", err)
			}
			if !session.ExpiresAt.Equal(p.Session.ExpiresAt) {
				t.Errorf("expires %s, want the person session's %s", session.ExpiresAt, p.Session.ExpiresAt)
			}
			live, err := f.store.SessionByToken(ctx, tokenHash)
			if err != nil {
				t.Fatalf("SessionByToken error = %v", err)
			}
			if live.Kind != models.SessionEnterprise || live.EnterpriseAccountID == nil || *live.EnterpriseAccountID != a.ID || live.PasswordLogin {
				t.Errorf("session = %+v, want an enterprise session of the account from face login", live)
			}

			_, _, err = f.store.StartEnterpriseSession(ctx, stranger.Session, a.ID, secure.HashToken(secure.NewToken()), f.clock.Now().Add(time.Hour))
			if !errors.Is(err, models.ErrNotFound) {
				t.Errorf("non-member: error = %v, want ErrNotFound", err)
			}

			// Revoking the membership ends the session at once.
			err = f.store.DB().Model(&models.Membership{}).Where("enterprise_account_id = ? AND person_id = ?", a.ID, p.PersonID).
				Update("revoked_at", f.clock.Now()).Error
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.store.SessionByToken(ctx, tokenHash); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("after revocation: SessionByToken error = %v, want ErrNotFound", err)
			}
			if _, err := f.store.SessionByToken(ctx, p.Session.TokenHash); err != nil {
				t.Errorf("person session after revocation: error = %v, want it live", err)
			}
		})
	}
}

func TestNormalizeLoginName(t *testing.T) {
	valid := []struct{ in, want string }{
		{"abcd", "abcd"},
		{"ZhangSan_01", "zhangsan_01"},
		{" gz.demo-co ", "gz.demo-co"},
		{strings.Repeat("a", 32), strings.Repeat("a", 32)},
	}
	for _, tt := range valid {
		got, err := models.NormalizeLoginName(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeLoginName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "abc", strings.Repeat("a", 33), "zhang san", "张三公司", "abc@def", "ab/cd", "ａｂｃｄ"} {
		if _, err := models.NormalizeLoginName(in); !errors.Is(err, models.ErrInvalidLoginName) {
			t.Errorf("NormalizeLoginName(%q) error = %v, want ErrInvalidLoginName", in, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	accepted := []string{
		"correct horse", // spaces and lowercase only
		"1234567890a",   // no rule about classes
		"粤商通登录密码很长的一句话",          // Chinese characters
		strings.Repeat("ab", 64), // 128 characters
	}
	for _, pw := range accepted {
		if err := models.CheckPassword(pw, "gzdemo"); err != nil {
			t.Errorf("CheckPassword(%q) error = %v, want nil", pw, err)
		}
	}
	rejected := []struct{ name, password string }{
		{"9 characters", "abcdefghi"},
		{"129 characters", strings.Repeat("ab", 64) + "c"},
		{"one character repeated", strings.Repeat("a", 12)},
		{"contains the login name", "my-gzdemo-2025"},
		{"contains the login name in capitals", "MY-GZDEMO-2025"},
		{"contains the login name in full width", "ｍｙｇｚｄｅｍｏ２０２５"},
		{"control character", "abcdefghij\x00"},
	}
	for _, tt := range rejected {
		err := models.CheckPassword(tt.password, "gzdemo")
		if !errors.Is(err, models.ErrWeakPassword) {
			t.Errorf("%s: CheckPassword error = %v, want ErrWeakPassword", tt.name, err)
			continue
		}
		if strings.Contains(err.Error(), tt.password) {
			t.Errorf("%s: error %q contains the password", tt.name, err)
		}
	}
}

func TestSetCredentials(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			ctx := context.Background()
			p := f.logIn(f.newIdentity("林晓峰"))
			a := f.account(p, f.newEnterprise("广州市测试科技有限公司", p.Identity))

			if _, err := f.store.SetCredentials(ctx, a.ID, p.PersonID, "ab", "long enough password"); !errors.Is(err, models.ErrInvalidLoginName) {
				t.Errorf("short login name: error = %v, want ErrInvalidLoginName", err)
			}
			if _, err := f.store.SetCredentials(ctx, a.ID, p.PersonID, "gzdemo", "short"); !errors.Is(err, models.ErrWeakPassword) {
				t.Errorf("short password: error = %v, want ErrWeakPassword", err)
			}
			if _, err := f.store.SetCredentials(ctx, secure.NewID(), p.PersonID, "gzdemo", "long enough password"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown account: error = %v, want ErrNotFound", err)
			}

			f.clock.Advance(time.Second)
			account, err := f.store.SetCredentials(ctx, a.ID, p.PersonID, "GzDemo", "long enough password")
			if err != nil {
				t.Fatalf("SetCredentials error = %v", err)
			}
			if account.LoginName == nil || *account.LoginName != "gzdemo" {
				t.Errorf("login name = %v, want gzdemo", account.LoginName)
			}
			if account.PasswordHash == nil || !strings.HasPrefix(*account.PasswordHash, "$argon2id$") {
				t.Error("password is not stored as an argon2id hash")
			}

			// A password login session ends when the password changes.
			f.clock.Advance(time.Second)
			token := secure.NewToken()
			if _, _, err := f.store.PasswordLogin(ctx, "gzdemo", "long enough password", secure.HashToken(token), time.Hour); err != nil {
				t.Fatalf("PasswordLogin error = %v", err)
			}
			f.clock.Advance(time.Second)
			if _, err := f.store.SetCredentials(ctx, a.ID, p.PersonID, "gzdemo", "another long password"); err != nil {
				t.Fatalf("change: SetCredentials error = %v", err)
			}
			if _, err := f.store.SessionByToken(ctx, secure.HashToken(token)); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("password session after the change: error = %v, want ErrNotFound", err)
			}

			got := f.auditActions(a.ID)
			want := []string{models.AuditCredentialsChanged, models.AuditPasswordLogin, models.AuditCredentialsSet, models.AuditAccountCreated}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("audit actions = %v, want %v", got, want)
			}
		})
	}
}

func TestSetCredentialsLoginNameTaken(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			ctx := context.Background()
			p := f.logIn(f.newIdentity("梁志强"))
			other := f.logIn(f.newIdentity("吴敏"))

			const callers = 8
			accounts := make([]models.MemberAccount, callers)
			for i := range accounts {
				applicant := p
				if i%2 == 1 {
					applicant = other
				}
				accounts[i] = f.account(applicant, f.newEnterprise("测试企业有限公司", other.Identity))
			}

			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i, a := range accounts {
				wg.Go(func() {
					_, errs[i] = f.store.SetCredentials(ctx, a.ID, a.ApplicantPersonID, "shared.name", "long enough password")
				})
			}
			wg.Wait()

			set := 0
			for _, err := range errs {
				switch {
				case err == nil:
					set++
				case !errors.Is(err, models.ErrLoginNameTaken):
					t.Errorf("error = %v, want nil or ErrLoginNameTaken", err)
				}
			}
			if set != 1 {
				t.Errorf("%d accounts got the login name, want 1", set)
			}
			var n int64
			f.store.DB().Model(&models.EnterpriseAccount{}).Where("login_name = ?", "shared.name").Count(&n)
			if n != 1 {
				t.Errorf("%d rows have the login name, want 1", n)
			}
		})
	}
}

func TestPasswordLogin(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			ctx := context.Background()
			p := f.logIn(f.newIdentity("黄丽华"))
			a := f.account(p, f.newEnterprise("深圳市测试贸易有限公司", p.Identity))
			if _, err := f.store.SetCredentials(ctx, a.ID, p.PersonID, "sz-trade", "long enough password"); err != nil {
				t.Fatal(err)
			}

			tokenHash := secure.HashToken(secure.NewToken())
			member, session, err := f.store.PasswordLogin(ctx, " SZ-Trade ", "long enough password", tokenHash, time.Hour)
			if err != nil {
				t.Fatalf("PasswordLogin error = %v", err)
			}
			if member.ID != a.ID || session.PersonID != p.PersonID || !session.PasswordLogin || session.Kind != models.SessionEnterprise {
				t.Errorf("session = %+v for account %s, want a password session of the applicant", session, member.ID)
			}
			if !session.ExpiresAt.Equal(f.clock.Now().Add(time.Hour)) {
				t.Errorf("expires %s, want one hour from now", session.ExpiresAt)
			}
			if _, err := f.store.SessionByToken(ctx, tokenHash); err != nil {
				t.Errorf("SessionByToken error = %v", err)
			}

			for _, tt := range []struct{ name, loginName, password string }{
				{"wrong password", "sz-trade", "long enough passworD"},
				{"unknown name", "nobody-here", "long enough password"},
				{"malformed name", "a", "long enough password"},
			} {
				_, _, err := f.store.PasswordLogin(ctx, tt.loginName, tt.password, secure.HashToken(secure.NewToken()), time.Hour)
				if !errors.Is(err, models.ErrInvalidCredentials) {
					t.Errorf("%s: error = %v, want ErrInvalidCredentials", tt.name, err)
				}
			}
		})
	}
}

func TestPasswordLoginLockout(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			ctx := context.Background()
			p := f.logIn(f.newIdentity("周建国"))
			a := f.account(p, f.newEnterprise("中山市测试农业专业合作社", p.Identity))
			if _, err := f.store.SetCredentials(ctx, a.ID, p.PersonID, "zs-coop", "long enough password"); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Second)
			login := func(loginName, password string) error {
				_, _, err := f.store.PasswordLogin(ctx, loginName, password, secure.HashToken(secure.NewToken()), time.Hour)
				return err
			}

			for i := 1; i <= models.MaxLoginFailures; i++ {
				if err := login("zs-coop", "wrong password!"); !errors.Is(err, models.ErrInvalidCredentials) {
					t.Fatalf("failure %d: error = %v, want ErrInvalidCredentials", i, err)
				}
			}
			if err := login("zs-coop", "long enough password"); !errors.Is(err, models.ErrLoginLocked) {
				t.Errorf("right password while locked: error = %v, want ErrLoginLocked", err)
			}
			if got := f.auditActions(a.ID); len(got) == 0 || got[0] != models.AuditLoginLocked {
				t.Errorf("audit actions = %v, want login_locked first", got)
			}

			f.clock.Advance(models.LoginLockout - time.Second)
			if err := login("zs-coop", "long enough password"); !errors.Is(err, models.ErrLoginLocked) {
				t.Errorf("one second before expiry: error = %v, want ErrLoginLocked", err)
			}
			f.clock.Advance(2 * time.Second)
			if err := login("zs-coop", "long enough password"); err != nil {
				t.Errorf("after expiry: error = %v, want success", err)
			}
		})
	}
}

func TestPasswordLoginSuccessResetsFailures(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			ctx := context.Background()
			p := f.logIn(f.newIdentity("何婉婷"))
			a := f.account(p, f.newEnterprise("珠海市测试餐饮管理有限公司", p.Identity))
			if _, err := f.store.SetCredentials(ctx, a.ID, p.PersonID, "zh-food", "long enough password"); err != nil {
				t.Fatal(err)
			}
			login := func(password string) error {
				_, _, err := f.store.PasswordLogin(ctx, "zh-food", password, secure.HashToken(secure.NewToken()), time.Hour)
				return err
			}

			for range models.MaxLoginFailures - 1 {
				_ = login("wrong password!")
			}
			if err := login("long enough password"); err != nil {
				t.Fatalf("success after %d failures: error = %v", models.MaxLoginFailures-1, err)
			}
			for range models.MaxLoginFailures - 1 {
				_ = login("wrong password!")
			}
			if err := login("long enough password"); err != nil {
				t.Errorf("count was not reset: error = %v", err)
			}
		})
	}
}

func TestPasswordLoginLocksUnknownName(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			login := func() error {
				_, _, err := f.store.PasswordLogin(context.Background(), "never-registered", "some password", secure.HashToken(secure.NewToken()), time.Hour)
				return err
			}
			for range models.MaxLoginFailures {
				if err := login(); !errors.Is(err, models.ErrInvalidCredentials) {
					t.Fatalf("error = %v, want ErrInvalidCredentials", err)
				}
			}
			if err := login(); !errors.Is(err, models.ErrLoginLocked) {
				t.Errorf("sixth attempt: error = %v, want ErrLoginLocked as for a registered name", err)
			}
		})
	}
}

func TestAuditEventsPages(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			f := newEnterpriseFixture(t, d)
			ctx := context.Background()
			p := f.logIn(f.newIdentity("欧阳明轩"))
			a := f.account(p, f.newEnterprise("东莞市测试物流有限公司", p.Identity))
			// Five credential changes, two of them in the same instant, after the creation.
			for i := range 5 {
				if i != 2 {
					f.clock.Advance(time.Millisecond)
				}
				if _, err := f.store.SetCredentials(ctx, a.ID, p.PersonID, "dg-logistics", "long enough password"); err != nil {
					t.Fatal(err)
				}
			}

			var all []models.AuditItem
			cursor := ""
			for page := 0; ; page++ {
				items, next, err := f.store.AuditEvents(ctx, a.ID, 2, cursor)
				if err != nil {
					t.Fatalf("page %d: error = %v", page, err)
				}
				all = append(all, items...)
				if next == "" {
					break
				}
				if page > 5 {
					t.Fatal("pagination does not end")
				}
				cursor = next
			}
			if len(all) != 6 {
				t.Fatalf("read %d events, want 6", len(all))
			}
			seen := map[string]bool{}
			for i, item := range all {
				if seen[item.ID] {
					t.Errorf("event %s appears twice", item.ID)
				}
				seen[item.ID] = true
				if i > 0 && item.CreatedAt.After(all[i-1].CreatedAt) {
					t.Errorf("event %d is newer than event %d", i, i-1)
				}
				if item.ActorNameMasked != identity.MaskName(p.Identity.Name) {
					t.Errorf("actor name = %q, want the masked name", item.ActorNameMasked)
				}
				var detail map[string]any
				if err := json.Unmarshal([]byte(item.Detail), &detail); err != nil {
					t.Errorf("detail %q is not a JSON object: %v", item.Detail, err)
				}
			}
			if all[len(all)-1].Action != models.AuditAccountCreated {
				t.Errorf("oldest event = %s, want account_created", all[len(all)-1].Action)
			}

			for _, bad := range []string{"not base64!", "bm9waXBl", secure.NewToken()} {
				if _, _, err := f.store.AuditEvents(ctx, a.ID, 2, bad); !errors.Is(err, models.ErrInvalidCursor) {
					t.Errorf("cursor %q: error = %v, want ErrInvalidCursor", bad, err)
				}
			}
		})
	}
}

func TestMigrateDownAndUpAgain(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(string(d), func(t *testing.T) {
			store := testenv.OpenStore(t, d)
			ctx := context.Background()
			if err := models.MigrateDown(ctx, store.DB(), d); err != nil {
				t.Fatalf("MigrateDown error = %v", err)
			}
			if _, err := models.Migrate(ctx, store.DB(), d); err != nil {
				t.Fatalf("Migrate after MigrateDown error = %v", err)
			}
		})
	}
}
