package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// healthcheckTimeout bounds one health check, below the 10 s that
// docker-compose.yml gives each check.
const healthcheckTimeout = 5 * time.Second

// healthcheck sends GET to the one URL in args and succeeds on a 2xx
// status. The container image has no shell or curl, so its health checks
// run this.
func healthcheck(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: yst healthcheck URL, such as http://127.0.0.1:8080/readyz")
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		return fmt.Errorf("invalid health check URL %q: %w", args[0], err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health check failed: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("health check failed: GET %s returned %s", args[0], resp.Status)
	}
	return nil
}
