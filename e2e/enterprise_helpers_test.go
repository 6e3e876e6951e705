package e2e

import (
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/testenv"
)

// enterprise is a synthetic registry entry for one test.
type enterprise struct {
	USCC   string
	Name   string
	Rep    person
	Status registry.Status
}

// newEnterprise returns an active enterprise with a random USCC and a new
// synthetic legal representative.
func newEnterprise(name string) enterprise {
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	return enterprise{USCC: identitytest.RandomUSCC(r), Name: name, Rep: newPerson(), Status: registry.StatusActive}
}

// newEnterpriseStack starts a stack whose registry holds exactly entries.
func newEnterpriseStack(t *testing.T, dialect models.Dialect, entries ...enterprise) *testenv.Stack {
	t.Helper()
	var csv strings.Builder
	csv.WriteString(strings.Join(registry.Header, ",") + "\n")
	for _, e := range entries {
		row := []string{e.USCC, e.Name, e.Rep.Name, string(identity.ResidentID), e.Rep.IDNumber, string(e.Status)}
		csv.WriteString(strings.Join(row, ",") + "\n")
	}
	path := filepath.Join(t.TempDir(), "registry.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return testenv.NewStack(t, dev, dialect, func(c *config.Config) { c.RegistryFile = path })
}

// addEnterprise calls POST /v1/enterprise-accounts.
func addEnterprise(t *testing.T, s *testenv.Stack, token, uscc, name string) response {
	t.Helper()
	return call(t, http.MethodPost, s.URL+"/v1/enterprise-accounts", map[string]string{"uscc": uscc, "enterprise_name": name}, bearer(token))
}

// mustAddEnterprise adds the enterprise and returns the new account's id.
func mustAddEnterprise(t *testing.T, s *testenv.Stack, token string, e enterprise) string {
	t.Helper()
	r := addEnterprise(t, s, token, e.USCC, e.Name)
	if r.Status != http.StatusCreated {
		t.Fatalf("add enterprise: status %d: %s", r.Status, r.Raw)
	}
	return r.str("id")
}

// chooseEnterprise calls POST /v1/sessions/enterprise (选择办事).
func chooseEnterprise(t *testing.T, s *testenv.Stack, token, accountID string) response {
	t.Helper()
	return call(t, http.MethodPost, s.URL+"/v1/sessions/enterprise", map[string]string{"enterprise_account_id": accountID}, bearer(token))
}

// mustChooseEnterprise returns the token of a new enterprise session.
func mustChooseEnterprise(t *testing.T, s *testenv.Stack, token, accountID string) string {
	t.Helper()
	r := chooseEnterprise(t, s, token, accountID)
	if r.Status != http.StatusOK {
		t.Fatalf("choose enterprise: status %d: %s", r.Status, r.Raw)
	}
	return r.str("token")
}

// setCredentials calls PUT /v1/enterprise-accounts/{id}/credentials.
func setCredentials(t *testing.T, s *testenv.Stack, token, accountID, loginName, password string) response {
	t.Helper()
	return call(t, http.MethodPut, s.URL+"/v1/enterprise-accounts/"+accountID+"/credentials",
		map[string]string{"login_name": loginName, "password": password}, bearer(token))
}

// passwordLogin calls POST /v1/enterprise-logins.
func passwordLogin(t *testing.T, s *testenv.Stack, loginName, password string) response {
	t.Helper()
	return call(t, http.MethodPost, s.URL+"/v1/enterprise-logins", map[string]string{"login_name": loginName, "password": password}, nil)
}

// residentIDPassingUSCCCheck returns a synthetic resident ID number that is
// also a valid unified social credit code by shape and check character.
func residentIDPassingUSCCCheck(t *testing.T) string {
	t.Helper()
	birth := time.Date(1986, 6, 15, 0, 0, 0, 0, time.UTC)
	for seq := range 1000 {
		id := identitytest.ResidentID("440106", birth, seq)
		if _, err := identity.NormalizeUSCC(id); err == nil {
			return id
		}
	}
	t.Fatal("no resident ID number of the series passes the USCC check")
	return ""
}
