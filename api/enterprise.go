package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/secure"
)

// maxEnterpriseNameRunes bounds the enterprise_name a person types.
const maxEnterpriseNameRunes = 200

// storeErrorCodes maps the Store's business errors to API codes, in one place.
var storeErrorCodes = []struct {
	err  error
	code Code
}{
	{models.ErrNotFound, CodeNotFound},
	{models.ErrEnterpriseNameMismatch, CodeEnterpriseNameMismatch},
	{models.ErrEnterpriseInactive, CodeEnterpriseInactive},
	{models.ErrAccountExists, CodeAccountExists},
	{models.ErrInvalidLoginName, CodeInvalidLoginName},
	{models.ErrWeakPassword, CodeWeakPassword},
	{models.ErrLoginNameTaken, CodeLoginNameTaken},
	{models.ErrInvalidCredentials, CodeInvalidCredentials},
	{models.ErrLoginLocked, CodeLoginLocked},
	{models.ErrInvalidCursor, CodeInvalidCursor},
}

// fromStore turns a Store error into an API error; other errors pass through
// and become 500 or 503 in the error handler.
func fromStore(err error) error {
	for _, m := range storeErrorCodes {
		if errors.Is(err, m.err) {
			return FailWith(m.code, err)
		}
	}
	return err
}

// enterpriseAccountView is an enterprise account as shown to one of its
// members, with that member's roles.
type enterpriseAccountView struct {
	ID             string     `json:"id"`
	USCC           string     `json:"uscc"`
	EnterpriseName string     `json:"enterprise_name"`
	TrustLevel     string     `json:"trust_level"`
	Roles          []string   `json:"roles"`
	LoginName      *string    `json:"login_name,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	CertifiedAt    *time.Time `json:"certified_at,omitempty"`
}

func accountView(a models.MemberAccount) enterpriseAccountView {
	view := enterpriseAccountView{
		ID:             a.ID,
		USCC:           a.USCC,
		EnterpriseName: a.EnterpriseName,
		TrustLevel:     a.TrustLevel,
		Roles:          a.Roles,
		LoginName:      a.LoginName,
		CreatedAt:      a.CreatedAt.UTC(),
	}
	if a.CertifiedAt != nil {
		certified := a.CertifiedAt.UTC()
		view.CertifiedAt = &certified
	}
	return view
}

// accountViews lists the accounts of the session's person. A session from
// password login gets only its own account, because the person who knows the
// password need not be the applicant.
func (s *Server) accountViews(ctx context.Context, session models.Session) ([]enterpriseAccountView, error) {
	accounts, err := s.store.AccountsOfPerson(ctx, session.PersonID)
	if err != nil {
		return nil, err
	}
	views := make([]enterpriseAccountView, 0, len(accounts))
	for _, a := range accounts {
		if session.PasswordLogin && (session.EnterpriseAccountID == nil || *session.EnterpriseAccountID != a.ID) {
			continue
		}
		views = append(views, accountView(a))
	}
	return views, nil
}

type createEnterpriseAccountRequest struct {
	USCC           string `json:"uscc"`
	EnterpriseName string `json:"enterprise_name"`
}

// createEnterpriseAccount registers an enterprise account (添加企业) with the
// caller as applicant. The uscc field is validated as a USCC and nothing
// else: an ID number that happens to pass the USCC check is looked up as a
// USCC and is not found.
func (s *Server) createEnterpriseAccount(c echo.Context) error {
	var req createEnterpriseAccountRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	uscc, err := identity.NormalizeUSCC(req.USCC)
	if err != nil {
		return Fail(CodeInvalidUSCC)
	}
	name := strings.TrimSpace(req.EnterpriseName)
	if name == "" || utf8.RuneCountInString(name) > maxEnterpriseNameRunes {
		return Fail(CodeInvalidEnterpriseName)
	}

	ctx := c.Request().Context()
	enterprise, err := s.registry.Lookup(ctx, uscc)
	if errors.Is(err, registry.ErrNotFound) {
		return Fail(CodeEnterpriseNotFound)
	}
	if err != nil {
		return FailWith(CodeServiceUnavailable, err)
	}
	session := currentSession(c)
	account, err := s.store.CreateEnterpriseAccount(ctx, session.PersonID, name, enterprise)
	if err != nil {
		return fromStore(err)
	}
	s.log.Info("enterprise account created", zap.String("request_id", requestID(c)),
		zap.String("enterprise_account_id", account.ID), zap.String("trust_level", account.TrustLevel))
	return c.JSON(http.StatusCreated, accountView(account))
}

// getEnterpriseAccount returns an account to one of its members.
func (s *Server) getEnterpriseAccount(c echo.Context) error {
	account, err := s.memberAccount(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, accountView(account))
}

// memberAccount loads the account of the :id path parameter with the
// caller's roles in it. A caller who is not a current member gets 404
// NOT_FOUND, and so does an enterprise session acting for another account,
// so that no response reveals whether another enterprise's account exists.
func (s *Server) memberAccount(c echo.Context) (models.MemberAccount, error) {
	return s.memberAccountByID(c, c.Param("id"))
}

// memberAccountByID is memberAccount for an account id from elsewhere than the path.
func (s *Server) memberAccountByID(c echo.Context, id string) (models.MemberAccount, error) {
	session := currentSession(c)
	if !resourceID.MatchString(id) {
		return models.MemberAccount{}, Fail(CodeNotFound)
	}
	if session.Kind == models.SessionEnterprise && (session.EnterpriseAccountID == nil || *session.EnterpriseAccountID != id) {
		return models.MemberAccount{}, Fail(CodeNotFound)
	}
	account, err := s.store.MemberAccount(c.Request().Context(), id, session.PersonID)
	if err != nil {
		return models.MemberAccount{}, fromStore(err)
	}
	return account, nil
}

type chooseEnterpriseRequest struct {
	EnterpriseAccountID string `json:"enterprise_account_id"`
}

type enterpriseSessionResponse struct {
	Token             string                `json:"token"`
	ExpiresAt         time.Time             `json:"expires_at"`
	EnterpriseAccount enterpriseAccountView `json:"enterprise_account"`
}

// chooseEnterprise (选择办事) starts an enterprise session for an account
// the caller is a current member of. Only a person session, which comes
// from face login, may do this; the new session ends no later than it.
func (s *Server) chooseEnterprise(c echo.Context) error {
	var req chooseEnterpriseRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.EnterpriseAccountID == "" {
		return Fail(CodeInvalidRequest)
	}
	if !resourceID.MatchString(req.EnterpriseAccountID) {
		return Fail(CodeNotFound)
	}

	token := secure.NewToken()
	expiresAt := s.now().Add(s.cfg.SessionTTL)
	account, session, err := s.store.StartEnterpriseSession(c.Request().Context(), currentSession(c),
		req.EnterpriseAccountID, secure.HashToken(token), expiresAt)
	if err != nil {
		return fromStore(err)
	}
	s.log.Info("enterprise session started", zap.String("request_id", requestID(c)),
		zap.String("session_id", session.ID), zap.String("enterprise_account_id", account.ID))
	return c.JSON(http.StatusOK, enterpriseSessionResponse{
		Token:             token,
		ExpiresAt:         session.ExpiresAt.UTC(),
		EnterpriseAccount: accountView(account),
	})
}

// RequirementCertified is the only value GET /v1/session/authorization
// accepts in its requires parameter.
const RequirementCertified = "certified"

type authorizationResponse struct {
	Allowed             bool   `json:"allowed"`
	EnterpriseAccountID string `json:"enterprise_account_id"`
	TrustLevel          string `json:"trust_level"`
}

// authorization reports to a business service whether the caller's session
// may do business that requires a certified account. A person session acts for
// no enterprise, so it gets 403 ENTERPRISE_SESSION_REQUIRED, and the app
// then shows 选择办事 so that the person chooses an enterprise first.
func (s *Server) authorization(c echo.Context) error {
	if c.QueryParam("requires") != RequirementCertified {
		return Fail(CodeInvalidRequest)
	}
	session := currentSession(c)
	if session.Kind != models.SessionEnterprise || session.EnterpriseAccountID == nil {
		return Fail(CodeEnterpriseSessionRequired)
	}
	// The session lookup already checked that the person is a current member.
	account, err := s.store.EnterpriseAccount(c.Request().Context(), *session.EnterpriseAccountID)
	if err != nil {
		return fromStore(err)
	}
	if !account.Certified() {
		return Fail(CodeAccountNotCertified)
	}
	return c.JSON(http.StatusOK, authorizationResponse{Allowed: true, EnterpriseAccountID: account.ID, TrustLevel: account.TrustLevel})
}
