package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

type credentialsRequest struct {
	LoginName string `json:"login_name"`
	Password  string `json:"password"`
}

// setCredentials sets or changes the account's 法人账号 login name and
// password. Only the applicant may, from their person session or from an
// enterprise session of this account that came from 选择办事. A session
// from password login gets 403 FACE_LOGIN_REQUIRED, so that someone who
// learnt the password cannot lock the applicant out by changing it.
func (s *Server) setCredentials(c echo.Context) error {
	var req credentialsRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	loginName, err := models.NormalizeLoginName(req.LoginName)
	if err != nil {
		return Fail(CodeInvalidLoginName)
	}
	if err := models.CheckPassword(req.Password, loginName); err != nil {
		return Fail(CodeWeakPassword)
	}

	account, err := s.memberAccount(c)
	if err != nil {
		return err
	}
	if !account.HasRole(models.RoleApplicant) {
		return Fail(CodeForbidden)
	}
	session := currentSession(c)
	if session.PasswordLogin {
		return Fail(CodeFaceLoginRequired)
	}

	updated, err := s.store.SetCredentials(c.Request().Context(), account.ID, session.PersonID, loginName, req.Password)
	if err != nil {
		return fromStore(err)
	}
	account.EnterpriseAccount = updated
	s.log.Info("enterprise credentials set", zap.String("request_id", requestID(c)), zap.String("enterprise_account_id", account.ID))
	return c.JSON(http.StatusOK, accountView(account))
}

type passwordLoginRequest struct {
	LoginName string `json:"login_name"`
	Password  string `json:"password"`
}

type passwordLoginResponse struct {
	Token             string                `json:"token"`
	ExpiresAt         time.Time             `json:"expires_at"`
	EnterpriseAccount enterpriseAccountView `json:"enterprise_account"`
	// PendingLinkRequests counts account link requests awaiting the
	// applicant's approval.
	PendingLinkRequests int `json:"pending_link_requests"`
}

// passwordLogin logs in with a 法人账号 login name and password and starts
// an enterprise session acting as the account's applicant. An unknown name
// and a wrong password get the same 401 INVALID_CREDENTIALS after the same
// work. Five failures in a row lock the name for 15 minutes (429
// LOGIN_LOCKED).
//
// The route takes no Idempotency-Key: the idempotency record would keep an
// unsalted SHA-256 of the body, which holds the password, and a retried
// login can simply log in again.
func (s *Server) passwordLogin(c echo.Context) error {
	var req passwordLoginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.LoginName == "" || req.Password == "" {
		return Fail(CodeInvalidRequest)
	}

	token := secure.NewToken()
	account, session, err := s.store.PasswordLogin(c.Request().Context(), req.LoginName, req.Password,
		secure.HashToken(token), s.cfg.SessionTTL)
	if err != nil {
		return fromStore(err)
	}
	s.log.Info("password login succeeded", zap.String("request_id", requestID(c)),
		zap.String("session_id", session.ID), zap.String("enterprise_account_id", account.ID))
	pending, err := s.store.CountPendingLinkRequests(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, passwordLoginResponse{
		Token:               token,
		ExpiresAt:           session.ExpiresAt.UTC(),
		EnterpriseAccount:   accountView(account),
		PendingLinkRequests: int(pending),
	})
}
