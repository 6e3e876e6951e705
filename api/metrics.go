package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// unmatchedRoute labels requests that matched no route, so that scanned
// paths add one series instead of one per path.
const unmatchedRoute = "unmatched"

// countRequests records every request in the request counter and the
// latency histogram. It labels by route pattern (c.Path()), never by the
// request path, so tokens in URLs never become label values. It must be the
// outermost middleware: requestContext below it has already turned any
// error into the response, so the status is final.
func (s *Server) countRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		route := c.Path()
		if route == "" || route == "/*" {
			route = unmatchedRoute
		}
		s.metrics.ObserveRequest(route, methodLabel(c.Request().Method), c.Response().Status, time.Since(start))
		return err
	}
}

// methodLabel keeps a client's made-up method out of the label values.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}
