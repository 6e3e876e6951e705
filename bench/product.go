package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gdyst/accountflows/api"
	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/workflows"
)

// syntheticNames are the names of the generated people. Their ID numbers
// are random, valid by construction and not taken from anyone.
var syntheticNames = []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "欧阳明轩", "黄磊", "周敏"}

// person is a synthetic person who logs in by face.
type person struct {
	Name     string
	IDNumber string
}

func newPerson() person {
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	return person{Name: syntheticNames[r.IntN(len(syntheticNames))], IDNumber: identitytest.RandomResidentID(r)}
}

// apiClient calls the service's HTTP API on one keep-alive pool.
type apiClient struct {
	base string
	http *http.Client
}

// newAPIClient keeps up to 2×concurrency idle connections, so the closed
// loop does not pay for new TCP connections. Go's default keeps two.
func newAPIClient(base string, concurrency int) *apiClient {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 4 * concurrency
	transport.MaxIdleConnsPerHost = 2 * concurrency
	transport.DisableCompression = true
	return &apiClient{base: base, http: &http.Client{Transport: transport, Timeout: 30 * time.Second}}
}

// call sends a JSON request and decodes the JSON response into out. A
// status other than want is an error that carries the response body.
func (c *apiClient) call(ctx context.Context, method, path string, headers map[string]string, body, out any, want int) error {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("status %d, want %d: %s", resp.StatusCode, want, truncate(string(raw), 300))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("invalid JSON response: %w", err)
		}
	}
	return nil
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

type startedLogin struct {
	ID           string `json:"id"`
	ClientSecret string `json:"client_secret"`
	Verification struct {
		ID            string `json:"id"`
		ProviderToken string `json:"provider_token"`
	} `json:"verification"`
}

type loginStatus struct {
	Status      string `json:"status"`
	FailureCode string `json:"failure_code"`
	Session     *struct {
		Token string `json:"token"`
	} `json:"session"`
}

// productDriver runs face logins through the HTTP API as the app and the
// person would: start, pass in the sandbox, report, poll.
type productDriver struct {
	api          *apiClient
	pollInterval time.Duration
}

// flow runs one face login of a new synthetic person.
func (d *productDriver) flow(ctx context.Context) (flowStats, error) {
	_, stats, err := d.logIn(ctx, newPerson())
	return stats, err
}

// logIn runs a face login for p and returns the person session's token.
// It polls every pollInterval until the login is no longer pending.
func (d *productDriver) logIn(ctx context.Context, p person) (string, flowStats, error) {
	var stats flowStats
	var login startedLogin
	err := d.api.call(ctx, http.MethodPost, "/v1/face-logins", nil,
		map[string]string{"name": p.Name, "id_number": p.IDNumber}, &login, http.StatusCreated)
	if err != nil {
		return "", stats, stepError("start", err)
	}
	stats.WorkflowID = workflows.FaceLoginID(login.ID)
	err = d.api.call(ctx, http.MethodPost, "/sandbox/face/"+login.Verification.ProviderToken, nil,
		map[string]string{"outcome": "pass"}, nil, http.StatusNoContent)
	if err != nil {
		return "", stats, stepError("sandbox outcome", err)
	}
	err = d.api.call(ctx, http.MethodPost, "/v1/face-verifications/"+login.Verification.ID+"/report", nil, nil, nil, http.StatusAccepted)
	if err != nil {
		return "", stats, stepError("report", err)
	}
	secret := map[string]string{api.HeaderClientSecret: login.ClientSecret}
	for {
		var status loginStatus
		stats.Polls++
		if err := d.api.call(ctx, http.MethodGet, "/v1/face-logins/"+login.ID, secret, nil, &status, http.StatusOK); err != nil {
			return "", stats, stepError("poll", err)
		}
		switch {
		case status.Status == "succeeded" && status.Session != nil && status.Session.Token != "":
			return status.Session.Token, stats, nil
		case status.Status != "pending":
			return "", stats, stepError("poll", fmt.Errorf("login ended %s (%s)", status.Status, status.FailureCode))
		}
		select {
		case <-ctx.Done():
			return "", stats, stepError("poll", ctx.Err())
		case <-time.After(d.pollInterval):
		}
	}
}

// checkSession confirms that a session token works, with GET /v1/me.
func (d *productDriver) checkSession(ctx context.Context, token string) error {
	return d.api.call(ctx, http.MethodGet, "/v1/me", bearer(token), nil, nil, http.StatusOK)
}
