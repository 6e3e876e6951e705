package api

import (
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

const sessionKey = "session"

type sessionRule int

const (
	anySession sessionRule = iota
	personSession
	enterpriseSession
)

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(c echo.Context) string {
	scheme, token, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// requireSession loads the live session of the bearer token, or returns 401.
func (s *Server) requireSession(rule sessionRule) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token := bearerToken(c)
			if token == "" || len(token) > 512 {
				return Fail(CodeUnauthenticated)
			}
			session, err := s.store.SessionByToken(c.Request().Context(), secure.HashToken(token))
			if errors.Is(err, models.ErrNotFound) {
				return Fail(CodeUnauthenticated)
			}
			if err != nil {
				return err
			}
			switch {
			case rule == personSession && session.Kind != models.SessionPerson:
				return Fail(CodePersonSessionRequired)
			case rule == enterpriseSession && session.Kind != models.SessionEnterprise:
				return Fail(CodeEnterpriseSessionRequired)
			}
			c.Set(sessionKey, session)
			return next(c)
		}
	}
}

func currentSession(c echo.Context) models.Session {
	session, _ := c.Get(sessionKey).(models.Session)
	return session
}
