package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

type meSession struct {
	Kind                string    `json:"kind"`
	EnterpriseAccountID *string   `json:"enterprise_account_id,omitempty"`
	ExpiresAt           time.Time `json:"expires_at"`
}

type meResponse struct {
	Person             personView              `json:"person"`
	Session            meSession               `json:"session"`
	EnterpriseAccounts []enterpriseAccountView `json:"enterprise_accounts"`
}

// me returns the caller, their session and the enterprise accounts they
// belong to. The caller sees their own name in full.
func (s *Server) me(c echo.Context) error {
	session := currentSession(c)
	ctx := c.Request().Context()
	person, err := s.store.Person(ctx, session.PersonID)
	if err != nil {
		return err
	}
	name, err := s.store.PersonName(person)
	if err != nil {
		return err
	}
	if session.PasswordLogin {
		// The person who knows a 法人账号 password need not be the applicant.
		name = person.NameMasked
	}
	views, err := s.accountViews(ctx, session)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meResponse{
		Person: personView{ID: person.ID, Name: name, IDNumberMasked: person.IDNumberMasked},
		Session: meSession{
			Kind:                session.Kind,
			EnterpriseAccountID: session.EnterpriseAccountID,
			ExpiresAt:           session.ExpiresAt.UTC(),
		},
		EnterpriseAccounts: views,
	})
}

// logout ends the current session.
func (s *Server) logout(c echo.Context) error {
	session := currentSession(c)
	if err := s.store.RevokeSession(c.Request().Context(), session.ID); err != nil {
		return err
	}
	s.log.Info("session ended", zap.String("request_id", requestID(c)), zap.String("session_id", session.ID))
	return c.NoContent(http.StatusNoContent)
}
