package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/secure"
)

// HeaderIdempotencyKey is the request header that makes a POST safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

// idempotencyTTL is how long a key's first response is kept.
const idempotencyTTL = 24 * time.Hour

// idempotencyRecordTimeout bounds storing or releasing a key's outcome
// after the handler has run.
const idempotencyRecordTimeout = 5 * time.Second

// idempotent replays the first response to a retried POST: same key and
// same body get the stored response, the same key with another body gets
// 422 IDEMPOTENCY_KEY_REUSED. Keys are scoped to the caller (its bearer
// token, or its IP address when it has none) and the request path. Server
// errors are not stored, so the retry runs again.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get(HeaderIdempotencyKey)
		if key == "" {
			return next(c)
		}
		if !validIdempotencyKey(key) {
			return Fail(CodeInvalidIdempotencyKey)
		}
		body, err := readBody(c)
		if err != nil {
			return err
		}
		caller := "ip:" + c.RealIP()
		if token := bearerToken(c); token != "" {
			caller = "token:" + secure.HashToken(token)
		}
		scope := s.keys.LookupHash("idempotency", caller, c.Request().Method, c.Request().URL.Path, key)
		sum := sha256.Sum256(body)
		requestHash := hex.EncodeToString(sum[:])

		ctx := c.Request().Context()
		// NOTE: after a process dies mid-request, its claim stays pending,
		// so every retry gets IDEMPOTENCY_KEY_IN_USE until idempotencyTTL
		// has passed.
		rec, claimed, err := s.store.BeginIdempotent(ctx, scope, requestHash, idempotencyTTL)
		if err != nil {
			return err
		}
		if !claimed {
			switch {
			case !secure.Equal(rec.RequestHash, requestHash):
				return Fail(CodeIdempotencyKeyReused)
			case rec.State != "complete":
				return Fail(CodeIdempotencyKeyInUse)
			}
			stored, err := s.store.IdempotentResponse(rec)
			if err != nil {
				return err
			}
			c.Response().Header().Set("Idempotent-Replayed", "true")
			return c.JSONBlob(rec.StatusCode, stored)
		}

		recorder := &teeWriter{ResponseWriter: c.Response().Writer}
		c.Response().Writer = recorder
		if err := next(c); err != nil {
			c.Error(err)
		}
		// The request's context ends when the client disconnects, which is
		// when a retry is most likely, so the outcome is recorded without it.
		// Otherwise the claim stays pending and every retry gets
		// IDEMPOTENCY_KEY_IN_USE until the key expires.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), idempotencyRecordTimeout)
		defer cancel()
		status := c.Response().Status
		if status >= 500 || status == http.StatusTooManyRequests {
			if err := s.store.AbandonIdempotent(recordCtx, scope); err != nil {
				s.log.Error("unable to release idempotency key", zap.String("request_id", requestID(c)), zap.Error(err))
			}
			return nil
		}
		if err := s.store.CompleteIdempotent(recordCtx, scope, status, recorder.buf.Bytes()); err != nil {
			s.log.Error("unable to store idempotent response", zap.String("request_id", requestID(c)), zap.Error(err))
		}
		return nil
	}
}

func validIdempotencyKey(key string) bool {
	if len(key) > 255 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// teeWriter copies the response body while writing it.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}
