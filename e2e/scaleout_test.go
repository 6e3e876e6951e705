package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// loginsPerPerson is how many face logins each person of the scale-out
// scenario runs at once.
const loginsPerPerson = 2

// scaleOutcome is what a batch of face logins left behind, compared
// between one stack and two.
type scaleOutcome struct {
	Logins          int
	Succeeded       int
	PersonRows      int
	SessionRows     int
	LoginRows       int
	OutcomesCounted float64
}

// finishedLogin is one login of the batch once it has left pending.
type finishedLogin struct {
	Person   person
	Status   string
	PersonID string
	Token    string
}

// runLogins drives loginsPerPerson concurrent face logins for each person
// and spreads every step over the stacks: the login with index i starts on
// stacks[i], the person decides on the next stack, and the result is read
// on the one after.
func runLogins(t *testing.T, stacks []*testenv.Stack, people []person) []finishedLogin {
	t.Helper()
	var mu sync.Mutex
	var finished []finishedLogin
	t.Run("logins", func(t *testing.T) {
		for i, p := range people {
			for j := range loginsPerPerson {
				index := i*loginsPerPerson + j
				t.Run(fmt.Sprintf("person%d-login%d", i, j), func(t *testing.T) {
					t.Parallel()
					starter := stacks[index%len(stacks)]
					decider := stacks[(index+1)%len(stacks)]
					reader := stacks[(index+2)%len(stacks)]

					login := startFaceLogin(t, starter, p)
					decide(t, decider, login.ProviderToken, map[string]string{"outcome": "pass"})
					done := waitForLogin(t, reader, login)

					mu.Lock()
					defer mu.Unlock()
					finished = append(finished, finishedLogin{
						Person:   p,
						Status:   done.str("status"),
						PersonID: done.str("person.id"),
						Token:    done.str("session.token"),
					})
				})
			}
		}
	})
	return finished
}

// countRows counts the rows of table in the stacks' shared database.
func countRows(t *testing.T, s *testenv.Stack, table string) int {
	t.Helper()
	var n int64
	if err := s.App.Store.DB().Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return int(n)
}

// succeededLoginsCounted sums yst_flow_outcomes_total for succeeded face
// logins over the workers of stacks.
func succeededLoginsCounted(t *testing.T, stacks []*testenv.Stack) float64 {
	t.Helper()
	var total float64
	for _, s := range stacks {
		families, err := s.App.Metrics.Gatherer().Gather()
		if err != nil {
			t.Fatalf("gather metrics: %v", err)
		}
		for _, f := range families {
			if f.GetName() != "yst_flow_outcomes_total" {
				continue
			}
			for _, series := range f.GetMetric() {
				labels := map[string]string{}
				for _, pair := range series.GetLabel() {
					labels[pair.GetName()] = pair.GetValue()
				}
				if labels["kind"] == workflows.KindFaceLogin && labels["status"] == models.LoginSucceeded {
					total += series.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// checkLogins checks the batch through every stack and returns its outcome.
func checkLogins(t *testing.T, stacks []*testenv.Stack, finished []finishedLogin) scaleOutcome {
	t.Helper()
	out := scaleOutcome{Logins: len(finished)}

	personByIDNumber := map[string]string{}
	for _, login := range finished {
		if login.Status != models.LoginSucceeded {
			t.Errorf("a login of %s ended %q, want succeeded", login.Person.Name, login.Status)
			continue
		}
		out.Succeeded++
		if first, seen := personByIDNumber[login.Person.IDNumber]; seen && first != login.PersonID {
			t.Errorf("one ID number became two persons: %s and %s", first, login.PersonID)
		}
		personByIDNumber[login.Person.IDNumber] = login.PersonID

		for _, s := range stacks {
			me := call(t, http.MethodGet, s.URL+"/v1/me", nil, bearer(login.Token))
			if me.Status != http.StatusOK || me.str("person.id") != login.PersonID {
				t.Errorf("GET /v1/me on %s = %d %s, want the login's person", s.URL, me.Status, me.Raw)
			}
		}
	}
	// Wait for the counters: a worker increments them after the database
	// commit that the API has already shown.
	testenv.Eventually(t, 10*time.Second, "flow outcome counters", func() bool {
		return succeededLoginsCounted(t, stacks) >= float64(out.Succeeded)
	})
	out.PersonRows = countRows(t, stacks[0], "persons")
	out.SessionRows = countRows(t, stacks[0], "sessions")
	out.LoginRows = countRows(t, stacks[0], "face_logins")
	out.OutcomesCounted = succeededLoginsCounted(t, stacks)
	return out
}

func TestScaleOut_TwoStacksMatchOne(t *testing.T) {
	people := []person{newPerson(), newPerson(), newPerson()}
	logins := len(people) * loginsPerPerson
	want := scaleOutcome{
		Logins:          logins,
		Succeeded:       logins,
		PersonRows:      len(people),
		SessionRows:     logins,
		LoginRows:       logins,
		OutcomesCounted: float64(logins),
	}

	single := []*testenv.Stack{testenv.NewStack(t, dev, models.Postgres)}
	first := testenv.NewStack(t, dev, models.Postgres)
	pair := []*testenv.Stack{first, testenv.NewStack(t, dev, models.Postgres, first.Sharing())}

	for name, stacks := range map[string][]*testenv.Stack{"one_stack": single, "two_stacks": pair} {
		t.Run(name, func(t *testing.T) {
			got := checkLogins(t, stacks, runLogins(t, stacks, people))
			if got != want {
				t.Errorf("outcome %+v, want %+v", got, want)
			}
		})
	}
}
