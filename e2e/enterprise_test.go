package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

func rolesOf(r response, path string) string {
	var cur any = r.Body
	for _, part := range strings.Split(path, ".") {
		m, _ := cur.(map[string]any)
		cur = m[part]
	}
	items, _ := cur.([]any)
	roles := make([]string, 0, len(items))
	for _, item := range items {
		roles = append(roles, fmt.Sprint(item))
	}
	return strings.Join(roles, ",")
}

func TestEnterpriseAccount_TrustLevels(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnterprise("广州市测试科技有限公司（番禺分公司）")
			s := newEnterpriseStack(t, dialect, e)
			repToken, _ := logIn(t, s, e.Rep)
			agentToken, _ := logIn(t, s, newPerson())

			rep := addEnterprise(t, s, repToken, e.USCC, "广州市测试科技有限公司 (番禺分公司)")
			if rep.Status != http.StatusCreated {
				t.Fatalf("legal representative: status %d: %s", rep.Status, rep.Raw)
			}
			if rep.str("trust_level") != "certified" || rolesOf(rep, "roles") != "applicant,legal_representative" {
				t.Errorf("legal representative's account: %s", rep.Raw)
			}
			if rep.str("enterprise_name") != e.Name || rep.str("uscc") != e.USCC || rep.str("created_at") == "" {
				t.Errorf("account does not carry the registry's name, the USCC and created_at: %s", rep.Raw)
			}

			agent := addEnterprise(t, s, agentToken, strings.ToLower(e.USCC), e.Name)
			if agent.Status != http.StatusCreated {
				t.Fatalf("agent: status %d: %s", agent.Status, agent.Raw)
			}
			if agent.str("trust_level") != "uncertified" || rolesOf(agent, "roles") != "applicant,agent" {
				t.Errorf("agent's account: %s", agent.Raw)
			}

			again := addEnterprise(t, s, repToken, e.USCC, e.Name)
			if again.Status != http.StatusConflict || again.errorCode() != "ACCOUNT_EXISTS" {
				t.Errorf("second account: %d %s, want 409 ACCOUNT_EXISTS", again.Status, again.Raw)
			}

			me := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(repToken))
			accounts, _ := me.Body["enterprise_accounts"].([]any)
			if me.Status != http.StatusOK || len(accounts) != 1 {
				t.Fatalf("GET /v1/me: %d %s, want one account", me.Status, me.Raw)
			}
			listed, _ := accounts[0].(map[string]any)
			if listed["id"] != rep.str("id") || listed["trust_level"] != "certified" {
				t.Errorf("GET /v1/me lists %v, want the certified account", listed)
			}

			read := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+agent.str("id"), nil, bearer(agentToken))
			if read.Status != http.StatusOK || rolesOf(read, "roles") != "applicant,agent" {
				t.Errorf("member reads the account: %d %s", read.Status, read.Raw)
			}
		})
	}
}

func TestEnterpriseAccount_ErrorCodes(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			active := newEnterprise("深圳市测试贸易有限公司")
			closed := newEnterprise("佛山市测试制造有限公司")
			closed.Status = registry.StatusDeregistered
			s := newEnterpriseStack(t, dialect, active, closed)
			token, _ := logIn(t, s, newPerson())
			mustAddEnterprise(t, s, token, active)

			unknown := newEnterprise("未登记的企业").USCC
			idNumber := residentIDPassingUSCCCheck(t)
			wrongCheck := active.USCC[:17] + nextCheckChar(active.USCC[17])

			tests := []struct {
				name   string
				body   any
				status int
				code   string
			}{
				{"wrong check character", map[string]string{"uscc": wrongCheck, "enterprise_name": active.Name}, 400, "INVALID_USCC"},
				{"empty uscc", map[string]string{"uscc": "", "enterprise_name": active.Name}, 400, "INVALID_USCC"},
				{"letter O in uscc", map[string]string{"uscc": "91440106MA59K0O01A", "enterprise_name": active.Name}, 400, "INVALID_USCC"},
				{"empty name", map[string]string{"uscc": active.USCC, "enterprise_name": " "}, 400, "INVALID_ENTERPRISE_NAME"},
				{"unknown field", `{"uscc":"` + active.USCC + `","enterprise_name":"x","legal_rep":"x"}`, 400, "UNKNOWN_FIELD"},
				{"unknown enterprise", map[string]string{"uscc": unknown, "enterprise_name": active.Name}, 422, "ENTERPRISE_NOT_FOUND"},
				// The uscc field is a USCC even when its value is also a valid
				// resident ID number: it is looked up as a USCC and not found.
				{"ID number in uscc", map[string]string{"uscc": idNumber, "enterprise_name": active.Name}, 422, "ENTERPRISE_NOT_FOUND"},
				{"wrong name", map[string]string{"uscc": active.USCC, "enterprise_name": "深圳市另一家贸易有限公司"}, 422, "ENTERPRISE_NAME_MISMATCH"},
				{"deregistered", map[string]string{"uscc": closed.USCC, "enterprise_name": closed.Name}, 422, "ENTERPRISE_INACTIVE"},
				{"second account", map[string]string{"uscc": active.USCC, "enterprise_name": active.Name}, 409, "ACCOUNT_EXISTS"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					for _, lang := range []string{"zh-CN", "en"} {
						headers := bearer(token)
						headers["Accept-Language"] = lang
						r := call(t, http.MethodPost, s.URL+"/v1/enterprise-accounts", tt.body, headers)
						if r.Status != tt.status || r.errorCode() != tt.code {
							t.Errorf("%s: %d %s, want %d %s", lang, r.Status, r.Raw, tt.status, tt.code)
						}
						if r.str("error.message") == "" || r.str("error.request_id") == "" {
							t.Errorf("%s: error lacks a message or request id: %s", lang, r.Raw)
						}
					}
				})
			}

			if r := addEnterprise(t, s, "", active.USCC, active.Name); r.Status != http.StatusUnauthorized {
				t.Errorf("without a session: %d, want 401", r.Status)
			}
		})
	}
}

// nextCheckChar returns another character of the USCC set than c.
func nextCheckChar(c byte) string {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	return string(chars[(strings.IndexByte(chars, c)+1)%len(chars)])
}

// TestEnterpriseAccount_NonMemberGets404 shows that a person who is not a
// member gets the same 404 on every account route as for an account that
// does not exist, whatever their session.
func TestEnterpriseAccount_NonMemberGets404(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			target := newEnterprise("东莞市测试物流有限公司")
			own := newEnterprise("珠海市测试餐饮管理有限公司")
			s := newEnterpriseStack(t, dialect, target, own)
			ownerToken, _ := logIn(t, s, target.Rep)
			targetID := mustAddEnterprise(t, s, ownerToken, target)

			strangerToken, _ := logIn(t, s, own.Rep)
			ownID := mustAddEnterprise(t, s, strangerToken, own)
			strangerEnterpriseToken := mustChooseEnterprise(t, s, strangerToken, ownID)
			ownLoginName := "zh-own-" + secure.NewID()[:6]
			if r := setCredentials(t, s, strangerToken, ownID, ownLoginName, "a long enough password"); r.Status != http.StatusOK {
				t.Fatalf("set own credentials: %d %s", r.Status, r.Raw)
			}
			strangerPasswordToken := passwordLogin(t, s, ownLoginName, "a long enough password").str("token")

			// The owner's enterprise session is allowed on the same routes, so the matrix can fail.
			ownerEnterpriseToken := mustChooseEnterprise(t, s, ownerToken, targetID)

			type route struct {
				name, method, path string
				body               any
			}
			routes := func(id string) []route {
				return []route{
					{"read account", http.MethodGet, "/v1/enterprise-accounts/" + id, nil},
					{"set credentials", http.MethodPut, "/v1/enterprise-accounts/" + id + "/credentials", map[string]string{"login_name": "x-" + secure.NewID()[:8], "password": "a long enough password"}},
					{"audit events", http.MethodGet, "/v1/enterprise-accounts/" + id + "/audit-events", nil},
					{"choose enterprise", http.MethodPost, "/v1/sessions/enterprise", map[string]string{"enterprise_account_id": id}},
				}
			}
			sessions := map[string]string{
				"person session":         strangerToken,
				"own enterprise session": strangerEnterpriseToken,
				"password session":       strangerPasswordToken,
			}
			missingID := secure.NewID()
			for sessionName, token := range sessions {
				for i, rt := range routes(targetID) {
					t.Run(sessionName+"/"+rt.name, func(t *testing.T) {
						got := call(t, rt.method, s.URL+rt.path, rt.body, bearer(token))
						missing := routes(missingID)[i]
						want := call(t, missing.method, s.URL+missing.path, missing.body, bearer(token))
						if got.Status != want.Status || got.errorCode() != want.errorCode() {
							t.Errorf("existing account: %d %s; missing account: %d %s", got.Status, got.errorCode(), want.Status, want.errorCode())
						}
						if rt.name != "choose enterprise" && (got.Status != http.StatusNotFound || got.errorCode() != "NOT_FOUND") {
							t.Errorf("%d %s, want 404 NOT_FOUND", got.Status, got.Raw)
						}
						if strings.Contains(string(got.Raw), target.Name) {
							t.Errorf("response names the enterprise: %s", got.Raw)
						}
					})
				}
			}

			for _, rt := range routes(targetID)[:3] {
				if r := call(t, rt.method, s.URL+rt.path, rt.body, bearer(ownerEnterpriseToken)); r.Status != http.StatusOK {
					t.Errorf("owner's enterprise session, %s: %d %s, want 200", rt.name, r.Status, r.Raw)
				}
			}

			// An enterprise session acts for its own account only, even when
			// its person is also a member of another one.
			ownerSecondID := mustAddEnterprise(t, s, ownerToken, own)
			ownerSecondToken := mustChooseEnterprise(t, s, ownerToken, ownerSecondID)
			for _, rt := range routes(targetID)[:3] {
				if r := call(t, rt.method, s.URL+rt.path, rt.body, bearer(ownerSecondToken)); r.Status != http.StatusNotFound {
					t.Errorf("owner's session for another account, %s: %d %s, want 404", rt.name, r.Status, r.Raw)
				}
			}
		})
	}
}

func TestChooseEnterprise_MembersOnly(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnterprise("中山市测试农业专业合作社")
			s := newEnterpriseStack(t, dialect, e)
			memberToken, memberID := logIn(t, s, e.Rep)
			strangerToken, _ := logIn(t, s, newPerson())
			accountID := mustAddEnterprise(t, s, memberToken, e)

			chosen := chooseEnterprise(t, s, memberToken, accountID)
			if chosen.Status != http.StatusOK || chosen.str("token") == "" || chosen.str("enterprise_account.id") != accountID || chosen.str("expires_at") == "" {
				t.Fatalf("member: %d %s", chosen.Status, chosen.Raw)
			}
			enterpriseToken := chosen.str("token")
			me := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(enterpriseToken))
			if me.str("session.kind") != "enterprise" || me.str("session.enterprise_account_id") != accountID {
				t.Errorf("GET /v1/me with the enterprise session: %s", me.Raw)
			}

			if r := chooseEnterprise(t, s, strangerToken, accountID); r.Status != http.StatusNotFound || r.errorCode() != "NOT_FOUND" {
				t.Errorf("stranger: %d %s, want 404 NOT_FOUND", r.Status, r.Raw)
			}
			if r := chooseEnterprise(t, s, enterpriseToken, accountID); r.Status != http.StatusForbidden {
				t.Errorf("from an enterprise session: %d %s, want 403", r.Status, r.Raw)
			}
			if r := call(t, http.MethodPost, s.URL+"/v1/sessions/enterprise", `{}`, bearer(memberToken)); r.Status != http.StatusBadRequest {
				t.Errorf("without enterprise_account_id: %d %s, want 400", r.Status, r.Raw)
			}

			// Ending the membership ends the enterprise session at once;
			// removing agents through the API comes with agent management.
			err := s.App.Store.DB().Model(&models.Membership{}).
				Where("enterprise_account_id = ? AND person_id = ?", accountID, memberID).
				Update("revoked_at", time.Now().UTC()).Error
			if err != nil {
				t.Fatal(err)
			}
			if r := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(enterpriseToken)); r.Status != http.StatusUnauthorized {
				t.Errorf("enterprise session after the membership ended: %d, want 401", r.Status)
			}
			if r := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(memberToken)); r.Status != http.StatusOK {
				t.Errorf("person session after the membership ended: %d, want 200", r.Status)
			}
		})
	}
}

func TestSessionAuthorization_Certified(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnterprise("汕头市测试文化传媒有限公司")
			s := newEnterpriseStack(t, dialect, e)
			repToken, _ := logIn(t, s, e.Rep)
			agentToken, _ := logIn(t, s, newPerson())
			certified := mustChooseEnterprise(t, s, repToken, mustAddEnterprise(t, s, repToken, e))
			uncertified := mustChooseEnterprise(t, s, agentToken, mustAddEnterprise(t, s, agentToken, e))
			check := func(token, requires string) response {
				return call(t, http.MethodGet, s.URL+"/v1/session/authorization?requires="+url.QueryEscape(requires), nil, bearer(token))
			}

			if r := check(certified, "certified"); r.Status != http.StatusOK || r.Body["allowed"] != true {
				t.Errorf("certified account: %d %s, want 200 allowed", r.Status, r.Raw)
			}
			if r := check(uncertified, "certified"); r.Status != http.StatusForbidden || r.errorCode() != "ACCOUNT_NOT_CERTIFIED" {
				t.Errorf("uncertified account: %d %s, want 403 ACCOUNT_NOT_CERTIFIED", r.Status, r.Raw)
			}
			if r := check(repToken, "certified"); r.Status != http.StatusForbidden || r.errorCode() != "ENTERPRISE_SESSION_REQUIRED" {
				t.Errorf("person session: %d %s, want 403 ENTERPRISE_SESSION_REQUIRED", r.Status, r.Raw)
			}
			if r := check(certified, "gold"); r.Status != http.StatusBadRequest {
				t.Errorf("unknown requirement: %d %s, want 400", r.Status, r.Raw)
			}
			if r := check("", "certified"); r.Status != http.StatusUnauthorized {
				t.Errorf("no session: %d, want 401", r.Status)
			}
		})
	}
}

func TestPasswordLogin_LocksAfterFiveFailures(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnterprise("广州市测试贸易有限公司")
			other := newEnterprise("广州市另一测试有限公司")
			s := newEnterpriseStack(t, dialect, e, other)
			repToken, _ := logIn(t, s, e.Rep)
			accountID := mustAddEnterprise(t, s, repToken, e)
			mustAddEnterprise(t, s, repToken, other)
			const loginName, password = "gz-trade", "粤商通 long password"

			for _, tt := range []struct {
				name, loginName, password, code string
				status                          int
			}{
				{"short login name", "gz", password, "INVALID_LOGIN_NAME", 400},
				{"login name with a space", "gz trade", password, "INVALID_LOGIN_NAME", 400},
				{"short password", loginName, "short", "WEAK_PASSWORD", 400},
				{"password holds the login name", loginName, "my-gz-trade-2025", "WEAK_PASSWORD", 400},
				{"one character repeated", loginName, strings.Repeat("9", 12), "WEAK_PASSWORD", 400},
			} {
				if r := setCredentials(t, s, repToken, accountID, tt.loginName, tt.password); r.Status != tt.status || r.errorCode() != tt.code {
					t.Errorf("%s: %d %s, want %d %s", tt.name, r.Status, r.Raw, tt.status, tt.code)
				}
			}
			set := setCredentials(t, s, repToken, accountID, "GZ-Trade", password)
			if set.Status != http.StatusOK || set.str("login_name") != loginName {
				t.Fatalf("set credentials: %d %s", set.Status, set.Raw)
			}

			// Another account cannot take the login name.
			otherToken, _ := logIn(t, s, newPerson())
			otherID := mustAddEnterprise(t, s, otherToken, e)
			if r := setCredentials(t, s, otherToken, otherID, loginName, "another long password"); r.Status != http.StatusConflict || r.errorCode() != "LOGIN_NAME_TAKEN" {
				t.Errorf("taken login name: %d %s, want 409 LOGIN_NAME_TAKEN", r.Status, r.Raw)
			}

			login := passwordLogin(t, s, loginName, password)
			if login.Status != http.StatusOK || login.str("token") == "" || login.str("enterprise_account.id") != accountID {
				t.Fatalf("password login: %d %s", login.Status, login.Raw)
			}
			if pending, ok := login.Body["pending_link_requests"].(float64); !ok || pending != 0 {
				t.Errorf("pending_link_requests = %v, want 0", login.Body["pending_link_requests"])
			}
			passwordToken := login.str("token")
			me := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(passwordToken))
			if me.str("session.kind") != "enterprise" || me.str("session.enterprise_account_id") != accountID {
				t.Errorf("GET /v1/me with the password session: %s", me.Raw)
			}
			// The person who knows the password need not be the applicant.
			if me.str("person.name") == e.Rep.Name {
				t.Errorf("password session sees the applicant's name in full: %s", me.Raw)
			}
			if listed, _ := me.Body["enterprise_accounts"].([]any); len(listed) != 1 {
				t.Errorf("password session sees %d accounts, want only its own", len(listed))
			}
			if r := setCredentials(t, s, passwordToken, accountID, loginName, "a new long password"); r.Status != http.StatusForbidden || r.errorCode() != "FACE_LOGIN_REQUIRED" {
				t.Errorf("change from a password session: %d %s, want 403 FACE_LOGIN_REQUIRED", r.Status, r.Raw)
			}

			wrong := passwordLogin(t, s, loginName, "wrong long password")
			unknown := passwordLogin(t, s, "nobody-"+secure.NewID()[:8], password)
			for name, r := range map[string]response{"wrong password": wrong, "unknown name": unknown} {
				if r.Status != http.StatusUnauthorized || r.errorCode() != "INVALID_CREDENTIALS" {
					t.Errorf("%s: %d %s, want 401 INVALID_CREDENTIALS", name, r.Status, r.Raw)
				}
			}
			if wrong.str("error.message") != unknown.str("error.message") {
				t.Errorf("messages differ: %q and %q", wrong.str("error.message"), unknown.str("error.message"))
			}

			for i := 2; i <= models.MaxLoginFailures; i++ {
				if r := passwordLogin(t, s, loginName, "wrong long password"); r.Status != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d %s, want 401", i, r.Status, r.Raw)
				}
			}
			locked := passwordLogin(t, s, loginName, password)
			if locked.Status != http.StatusTooManyRequests || locked.errorCode() != "LOGIN_LOCKED" {
				t.Errorf("right password after five failures: %d %s, want 429 LOGIN_LOCKED", locked.Status, locked.Raw)
			}

			audit := call(t, http.MethodGet, s.URL+"/v1/enterprise-accounts/"+accountID+"/audit-events", nil, bearer(repToken))
			events, _ := audit.Body["events"].([]any)
			var actions []string
			for _, event := range events {
				actions = append(actions, fmt.Sprint(event.(map[string]any)["action"]))
			}
			want := "login_locked,password_login,credentials_set,account_created"
			if strings.Join(actions, ",") != want {
				t.Errorf("audit actions = %v, want %s", actions, want)
			}

			for label, value := range map[string]string{"password": password, "session token": passwordToken, "ID number": e.Rep.IDNumber, "name": e.Rep.Name} {
				if strings.Contains(s.Logs(), value) {
					t.Errorf("the log contains the %s", label)
				}
			}
			dump := dumpDatabase(t, s)
			for label, value := range map[string]string{"password": password, "session token": passwordToken} {
				if strings.Contains(dump, value) {
					t.Errorf("the database contains the %s in clear", label)
				}
			}
		})
	}
}

func TestAuditEvents_PagesAndRoles(t *testing.T) {
	for _, dialect := range testenv.Databases {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnterprise("广州市测试物业管理有限公司")
			s := newEnterpriseStack(t, dialect, e)
			token, _ := logIn(t, s, e.Rep)
			accountID := mustAddEnterprise(t, s, token, e)
			for i := range 3 {
				if r := setCredentials(t, s, token, accountID, "gz-estate", fmt.Sprintf("long password number %d", i)); r.Status != http.StatusOK {
					t.Fatalf("set credentials: %d %s", r.Status, r.Raw)
				}
			}

			base := s.URL + "/v1/enterprise-accounts/" + accountID + "/audit-events"
			seen := map[string]bool{}
			next := ""
			for page := 0; page < 10; page++ {
				u := base + "?limit=1"
				if next != "" {
					u += "&cursor=" + url.QueryEscape(next)
				}
				r := call(t, http.MethodGet, u, nil, bearer(token))
				if r.Status != http.StatusOK {
					t.Fatalf("page %d: %d %s", page, r.Status, r.Raw)
				}
				if strings.Contains(string(r.Raw), e.Rep.Name) || strings.Contains(string(r.Raw), e.Rep.IDNumber) {
					t.Errorf("page %d holds personal data: %s", page, r.Raw)
				}
				events, _ := r.Body["events"].([]any)
				for _, event := range events {
					seen[fmt.Sprint(event.(map[string]any)["id"])] = true
				}
				if next = r.str("next_cursor"); next == "" {
					break
				}
			}
			if len(seen) != 4 {
				t.Errorf("read %d distinct events, want 4", len(seen))
			}

			if r := call(t, http.MethodGet, base+"?cursor=bogus", nil, bearer(token)); r.Status != http.StatusBadRequest || r.errorCode() != "INVALID_CURSOR" {
				t.Errorf("bad cursor: %d %s, want 400 INVALID_CURSOR", r.Status, r.Raw)
			}
			if r := call(t, http.MethodGet, base+"?limit=0", nil, bearer(token)); r.Status != http.StatusBadRequest {
				t.Errorf("limit 0: %d %s, want 400", r.Status, r.Raw)
			}
		})
	}
}

// TestEnterpriseAccount_SampleRegistry follows the README: the shipped
// sample registry's legal representative gets a certified account.
func TestEnterpriseAccount_SampleRegistry(t *testing.T) {
	s := testenv.NewStack(t, dev, models.SQLite)
	sample, err := registry.Sample()
	if err != nil {
		t.Fatal(err)
	}
	e, err := sample.Lookup(t.Context(), "91440106MA59K0001A")
	if err != nil {
		t.Fatal(err)
	}
	token, _ := logIn(t, s, person{Name: e.LegalRep.Name, IDNumber: e.LegalRep.IDNumber})
	r := addEnterprise(t, s, token, e.USCC, e.Name)
	if r.Status != http.StatusCreated || r.str("trust_level") != "certified" {
		t.Errorf("sample legal representative: %d %s, want 201 certified", r.Status, r.Raw)
	}
}
