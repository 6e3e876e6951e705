package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/registry"
)

// enterprise is the one synthetic registry entry of a run. Its legal
// representative logs in by face and invites the agents of the scale run.
type enterprise struct {
	USCC string
	Name string
	Rep  person
}

func newEnterprise() enterprise {
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	return enterprise{USCC: identitytest.RandomUSCC(r), Name: "广州市压测样例科技有限公司", Rep: newPerson()}
}

// writeRegistry writes a registry CSV holding only e and returns its path.
func writeRegistry(dir string, e enterprise) (string, error) {
	row := []string{e.USCC, e.Name, e.Rep.Name, string(identity.ResidentID), e.Rep.IDNumber, string(registry.StatusActive)}
	content := strings.Join(registry.Header, ",") + "\n" + strings.Join(row, ",") + "\n"
	path := filepath.Join(dir, "registry.csv")
	return path, os.WriteFile(path, []byte(content), 0o600)
}

// ScaleResult describes the scale run: many pending agent invitations
// that all expire by their own timers.
type ScaleResult struct {
	Requested     int
	Created       int
	CreateFailed  int
	CreateTime    time.Duration
	TTL           time.Duration
	PendingPeak   int64 // pending invitations in the database right after the last creation
	Expired       int
	NotExpired    int // still pending, or ended otherwise, when the wait ended
	LateP50       time.Duration
	LateP99       time.Duration
	LateMax       time.Duration
	WorkerRSSIdle int64 // the fresh worker's resident set before the first invitation
	WorkerPeakRSS int64 // its VmHWM after the last expiry
	TemporalRSS   int64 // the dev server's VmHWM at the end of the run
	FirstFailure  string
}

// CreatePerSecond is the invitations created per second of creation time.
func (r ScaleResult) CreatePerSecond() float64 {
	if r.CreateTime <= 0 {
		return 0
	}
	return float64(r.Created) / r.CreateTime.Seconds()
}

// certifiedSession logs the legal representative in by face, registers
// the enterprise account (certified, because the registry names them) and
// returns an enterprise session for it.
func certifiedSession(ctx context.Context, d *productDriver, e enterprise) (accountID, session string, err error) {
	token, _, err := d.logIn(ctx, e.Rep)
	if err != nil {
		return "", "", fmt.Errorf("legal representative's face login: %w", err)
	}
	var account struct {
		ID         string `json:"id"`
		TrustLevel string `json:"trust_level"`
	}
	err = d.api.call(ctx, http.MethodPost, "/v1/enterprise-accounts", bearer(token),
		map[string]string{"uscc": e.USCC, "enterprise_name": e.Name}, &account, http.StatusCreated)
	if err != nil {
		return "", "", fmt.Errorf("add enterprise: %w", err)
	}
	if account.TrustLevel != "certified" {
		return "", "", fmt.Errorf("add enterprise: trust level %q, want certified", account.TrustLevel)
	}
	var chosen struct {
		Token string `json:"token"`
	}
	err = d.api.call(ctx, http.MethodPost, "/v1/sessions/enterprise", bearer(token),
		map[string]string{"enterprise_account_id": account.ID}, &chosen, http.StatusOK)
	if err != nil {
		return "", "", fmt.Errorf("choose enterprise: %w", err)
	}
	return account.ID, chosen.Token, nil
}

// createInvitations invites n new synthetic people on concurrency
// goroutines, each request once, and returns how many were created.
func createInvitations(ctx context.Context, c *apiClient, accountID, session string, n, concurrency int) (created, failed int, firstFailure string) {
	var next, ok, bad atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	path := "/v1/enterprise-accounts/" + accountID + "/agent-invitations"
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				p := newPerson()
				callCtx, cancel := context.WithTimeout(ctx, flowTimeout)
				err := c.call(callCtx, http.MethodPost, path, bearer(session),
					map[string]string{"name": p.Name, "id_number": p.IDNumber}, nil, http.StatusCreated)
				cancel()
				if err != nil {
					bad.Add(1)
					once.Do(func() { firstFailure = err.Error() })
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(ok.Load()), int(bad.Load()), firstFailure
}

// waitForExpiries waits until no invitation of the run is pending, or
// until grace after the latest deadline, checking once a second.
func waitForExpiries(ctx context.Context, db *database, grace time.Duration) error {
	var latest time.Time
	if err := db.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(expires_at), now()) FROM agent_invitations").Scan(&latest).Error; err != nil {
		return err
	}
	deadline := latest.Add(grace)
	for {
		pending, err := countPending(ctx, db)
		if err != nil {
			return err
		}
		if pending == 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func countPending(ctx context.Context, db *database) (int64, error) {
	var n int64
	err := db.db.WithContext(ctx).Raw("SELECT count(*) FROM agent_invitations WHERE status = 'pending'").Scan(&n).Error
	return n, err
}

// expiryLateness returns, for every expired invitation, how long after its
// deadline (expires_at) the flow stored its end (ended_at), and the number
// of invitations that did not end as expired.
func expiryLateness(ctx context.Context, db *database) ([]time.Duration, int, error) {
	var rows []struct {
		Status    string
		ExpiresAt time.Time
		EndedAt   *time.Time
	}
	err := db.db.WithContext(ctx).Raw("SELECT status, expires_at, ended_at FROM agent_invitations").Scan(&rows).Error
	if err != nil {
		return nil, 0, err
	}
	late := make([]time.Duration, 0, len(rows))
	other := 0
	for _, r := range rows {
		if r.Status != "expired" || r.EndedAt == nil {
			other++
			continue
		}
		late = append(late, r.EndedAt.Sub(r.ExpiresAt))
	}
	return late, other, nil
}
