package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/secure"
)

const requestIDKey = "request_id"

func requestID(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

// requestContext gives each request an id (returned in X-Request-Id) and
// logs one line per request with route, status and latency. Paths are
// logged by route pattern, so tokens in URLs never reach the log.
func (s *Server) requestContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := secure.NewID()[:16]
		c.Set(requestIDKey, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.log.Info("request",
			zap.String("request_id", id),
			zap.String("method", c.Request().Method),
			zap.String("route", c.Path()),
			zap.Int("status", c.Response().Status),
			zap.Duration("latency", time.Since(start)),
		)
		return nil
	}
}

// recoverPanics turns a panic into a 500 with no internal text.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = FailWith(CodeInternal, fmt.Errorf("panic: %v", r))
			}
		}()
		return next(c)
	}
}

// limitBody rejects bodies over MaxBodyBytes with 413, whether or not the
// client sent Content-Length.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > MaxBodyBytes {
			return Fail(CodeBodyTooLarge)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes)
		return next(c)
	}
}
