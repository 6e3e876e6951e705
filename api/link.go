package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/workflows"
)

// mountLinkRequests adds the routes of account link requests (关联他人的企业账号).
func (s *Server) mountLinkRequests(v1 *echo.Group) {
	v1.POST("/account-link-requests", s.createLinkRequest, s.requireSession(personSession), s.idempotent)
	v1.GET("/account-link-requests/:id", s.getLinkRequest, s.requireSession(anySession))
	v1.DELETE("/account-link-requests/:id", s.cancelLinkRequest, s.requireSession(anySession))
	v1.POST("/account-link-requests/:id/approve", s.approveLinkRequest, s.requireSession(anySession), s.idempotent, requireEmptyBody)
	v1.POST("/account-link-requests/:id/reject", s.rejectLinkRequest, s.requireSession(anySession), s.idempotent, requireEmptyBody)
	v1.GET("/enterprise-accounts/:id/link-requests", s.listLinkRequests, s.requireSession(anySession))
}

type createLinkRequestBody struct {
	LoginName string `json:"login_name"`
	USCC      string `json:"uscc"`
}

// linkRequestView is a link request as shown to its requester. The account
// id appears once the request is approved, so that the app can offer
// 选择办事 for it.
type linkRequestView struct {
	ID                  string     `json:"id"`
	Status              string     `json:"status"`
	EnterpriseName      string     `json:"enterprise_name"`
	USCC                string     `json:"uscc"`
	EnterpriseAccountID string     `json:"enterprise_account_id,omitempty"`
	ExpiresAt           time.Time  `json:"expires_at"`
	CreatedAt           time.Time  `json:"created_at"`
	EndedAt             *time.Time `json:"ended_at,omitempty"`
}

func newLinkRequestView(r models.AccountLinkRequest, account models.EnterpriseAccount) linkRequestView {
	view := linkRequestView{
		ID:             r.ID,
		Status:         r.Status,
		EnterpriseName: account.EnterpriseName,
		USCC:           account.USCC,
		ExpiresAt:      r.ExpiresAt.UTC(),
		CreatedAt:      r.CreatedAt.UTC(),
		EndedAt:        utcOrNil(r.EndedAt),
	}
	if r.Status == models.LinkApproved {
		view.EnterpriseAccountID = r.EnterpriseAccountID
	}
	return view
}

// requesterView shows the requester to the applicant, masked.
type requesterView struct {
	PersonID       string `json:"person_id"`
	NameMasked     string `json:"name_masked"`
	IDNumberMasked string `json:"id_number_masked"`
}

// applicantLinkRequestView is a link request as shown to the account's applicant.
type applicantLinkRequestView struct {
	ID                  string        `json:"id"`
	EnterpriseAccountID string        `json:"enterprise_account_id"`
	Status              string        `json:"status"`
	Requester           requesterView `json:"requester"`
	DecidedBy           *string       `json:"decided_by,omitempty"`
	ExpiresAt           time.Time     `json:"expires_at"`
	CreatedAt           time.Time     `json:"created_at"`
	EndedAt             *time.Time    `json:"ended_at,omitempty"`
}

func newApplicantLinkRequestView(item models.LinkRequestItem) applicantLinkRequestView {
	return applicantLinkRequestView{
		ID:                  item.ID,
		EnterpriseAccountID: item.EnterpriseAccountID,
		Status:              item.Status,
		Requester: requesterView{
			PersonID:       item.RequesterPersonID,
			NameMasked:     item.RequesterNameMasked,
			IDNumberMasked: item.RequesterIDNumberMasked,
		},
		DecidedBy: item.DecidedBy,
		ExpiresAt: item.ExpiresAt.UTC(),
		CreatedAt: item.CreatedAt.UTC(),
		EndedAt:   utcOrNil(item.EndedAt),
	}
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	utc := t.UTC()
	return &utc
}

// createLinkRequest lets a person request to become an agent of a certified
// account they name by its 法人账号 login name and USCC. Any uscc other
// than the account's own is 404 ACCOUNT_NOT_FOUND, a malformed one
// included, so the response never shows which of the two values was wrong.
//
// NOTE: a face-verified person can still learn whether a login name belongs
// to a USCC from 404 against any other answer. No rate limit bounds such
// guessing yet; password login locks a guessed name after five failures.
func (s *Server) createLinkRequest(c echo.Context) error {
	var req createLinkRequestBody
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.LoginName) == "" || strings.TrimSpace(req.USCC) == "" {
		return Fail(CodeInvalidRequest)
	}
	uscc, err := identity.NormalizeUSCC(req.USCC)
	if err != nil {
		return FailWith(CodeAccountNotFound, err)
	}

	ctx := c.Request().Context()
	session := currentSession(c)
	account, err := s.store.LinkTarget(ctx, session.PersonID, req.LoginName, uscc)
	if err != nil {
		return linkTargetError(err)
	}

	linkID := secure.NewID()
	expiresAt := s.now().Add(s.cfg.LinkRequestTTL).Truncate(time.Second)
	if err := s.startAccountLink(ctx, account, linkID, session.PersonID, expiresAt); err != nil {
		return err
	}
	s.log.Info("account link request created", zap.String("request_id", requestID(c)),
		zap.String("link_request_id", linkID), zap.String("enterprise_account_id", account.ID))
	created := models.AccountLinkRequest{
		ID:                  linkID,
		EnterpriseAccountID: account.ID,
		Status:              models.LinkPendingApproval,
		ExpiresAt:           expiresAt,
		CreatedAt:           s.now(),
	}
	return c.JSON(http.StatusCreated, newLinkRequestView(created, account))
}

// startAccountLink starts the request's workflow with an update that
// returns once the request's row exists.
func (s *Server) startAccountLink(ctx context.Context, account models.EnterpriseAccount, linkID, requesterID string, expiresAt time.Time) error {
	newStart := func() client.WithStartWorkflowOperation {
		return s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID:                       workflows.AccountLinkID(linkID),
			TaskQueue:                s.cfg.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			StaticSummary:            workflows.AccountLinkSummary(account.EnterpriseName),
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.AttrFlowKind.ValueSet(workflows.KindAccountLink),
				workflows.AttrFlowStatus.ValueSet(models.LinkPendingApproval),
				workflows.AttrEnterpriseAccountID.ValueSet(account.ID),
				workflows.AttrUSCC.ValueSet(account.USCC),
				workflows.AttrExpiresAt.ValueSet(expiresAt),
			),
		}, workflows.AccountLinkWorkflow, workflows.AccountLinkInput{
			RequestID:   linkID,
			AccountID:   account.ID,
			RequesterID: requesterID,
			ExpiresAt:   expiresAt,
		})
	}
	err := s.updateWithStart(ctx, newStart, client.UpdateWorkflowOptions{
		UpdateID:     linkID,
		UpdateName:   workflows.UpdateBeginAccountLink,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}, nil)
	if err != nil {
		return linkError(err)
	}
	return nil
}

// linkTargetError maps the errors of Store.LinkTarget. ACCOUNT_NOT_CERTIFIED
// is 422 here, a business rule about someone else's account, where it is
// 403 for a session's own account.
func linkTargetError(err error) error {
	switch {
	case errors.Is(err, models.ErrNotFound):
		return FailWith(CodeAccountNotFound, err)
	case errors.Is(err, models.ErrAccountNotCertified):
		return FailWith(CodeAccountNotCertified, err).WithStatus(http.StatusUnprocessableEntity)
	case errors.Is(err, models.ErrAlreadyMember):
		return FailWith(CodeAlreadyMember, err)
	case errors.Is(err, models.ErrLinkRequestOpen):
		return FailWith(CodeLinkRequestOpen, err)
	}
	return err
}

// linkError maps the errors of the account-link flow's updates. A flow
// that has already closed no longer takes decisions.
func linkError(err error) error {
	if applicationErrorType(err) == activities.ErrTypeAccountNotCertified {
		return FailWith(CodeAccountNotCertified, err).WithStatus(http.StatusUnprocessableEntity)
	}
	return flowUpdateError(err, CodeLinkRequestNotPending, map[string]Code{
		activities.ErrTypeAlreadyMember:   CodeAlreadyMember,
		activities.ErrTypeLinkRequestOpen: CodeLinkRequestOpen,
		workflows.ErrTypeActorNotAllowed:  CodeForbidden,
	})
}

// linkRequestByID loads the :id link request, or 404.
func (s *Server) linkRequestByID(c echo.Context) (models.AccountLinkRequest, error) {
	id := c.Param("id")
	if !resourceID.MatchString(id) {
		return models.AccountLinkRequest{}, Fail(CodeNotFound)
	}
	r, err := s.store.LinkRequest(c.Request().Context(), id)
	if errors.Is(err, models.ErrNotFound) {
		return models.AccountLinkRequest{}, Fail(CodeNotFound)
	}
	return r, err
}

// requesterLinkRequest loads the :id link request for its requester. Anyone
// else gets 404, and so does a session from password login, because it acts
// as an account's applicant and whoever holds the password need not be
// that person.
func (s *Server) requesterLinkRequest(c echo.Context) (models.AccountLinkRequest, error) {
	r, err := s.linkRequestByID(c)
	if err != nil {
		return models.AccountLinkRequest{}, err
	}
	session := currentSession(c)
	if session.PasswordLogin || session.PersonID != r.RequesterPersonID {
		return models.AccountLinkRequest{}, Fail(CodeNotFound)
	}
	return r, nil
}

// applicantLinkRequest loads the :id link request for the applicant of its
// account, acting through an enterprise session of that account. Callers
// who are not current members of the account get 404. Members without an
// enterprise session, or without the applicant role, get 403.
func (s *Server) applicantLinkRequest(c echo.Context) (models.AccountLinkRequest, error) {
	r, err := s.linkRequestByID(c)
	if err != nil {
		return models.AccountLinkRequest{}, err
	}
	if _, err := s.accountByIDWithRole(c, r.EnterpriseAccountID, models.RoleApplicant); err != nil {
		return models.AccountLinkRequest{}, err
	}
	return r, nil
}

// getLinkRequest returns a link request to its requester.
func (s *Server) getLinkRequest(c echo.Context) error {
	r, err := s.requesterLinkRequest(c)
	if err != nil {
		return err
	}
	account, err := s.store.EnterpriseAccount(c.Request().Context(), r.EnterpriseAccountID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newLinkRequestView(r, account))
}

// cancelLinkRequest lets the requester withdraw a pending link request.
func (s *Server) cancelLinkRequest(c echo.Context) error {
	r, err := s.requesterLinkRequest(c)
	if err != nil {
		return err
	}
	r, err = s.decideLinkRequest(c, r, workflows.UpdateCancelAccountLink)
	if err != nil {
		return err
	}
	account, err := s.store.EnterpriseAccount(c.Request().Context(), r.EnterpriseAccountID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newLinkRequestView(r, account))
}

// approveLinkRequest lets the account's applicant approve a link request,
// which makes the requester an agent of the account (via link_approval).
func (s *Server) approveLinkRequest(c echo.Context) error {
	return s.applicantDecision(c, workflows.UpdateApproveAccountLink)
}

// rejectLinkRequest lets the account's applicant reject a link request.
func (s *Server) rejectLinkRequest(c echo.Context) error {
	return s.applicantDecision(c, workflows.UpdateRejectAccountLink)
}

func (s *Server) applicantDecision(c echo.Context, update string) error {
	r, err := s.applicantLinkRequest(c)
	if err != nil {
		return err
	}
	r, err = s.decideLinkRequest(c, r, update)
	if err != nil {
		return err
	}
	requester, err := s.store.Person(c.Request().Context(), r.RequesterPersonID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newApplicantLinkRequestView(models.LinkRequestItem{
		AccountLinkRequest:      r,
		RequesterNameMasked:     requester.NameMasked,
		RequesterIDNumberMasked: requester.IDNumberMasked,
	}))
}

// decideLinkRequest sends the caller's decision to the request's flow and
// returns the request as stored afterwards. A request that is no longer
// pending, or whose expiry has passed, is 409 LINK_REQUEST_NOT_PENDING
// without a call to Temporal. The flow's update validator decides the
// races that this check cannot see.
func (s *Server) decideLinkRequest(c echo.Context, r models.AccountLinkRequest, update string) (models.AccountLinkRequest, error) {
	if !r.Pending() || !s.now().Before(r.ExpiresAt) {
		return r, Fail(CodeLinkRequestNotPending)
	}
	ctx := c.Request().Context()
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   r.WorkflowID,
		UpdateName:   update,
		Args:         []any{workflows.LinkDecision{ActorID: currentSession(c).PersonID}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	if err != nil {
		return r, linkError(err)
	}
	decided, err := s.store.LinkRequest(ctx, r.ID)
	if err != nil {
		return r, err
	}
	s.log.Info("account link request decided", zap.String("request_id", requestID(c)),
		zap.String("link_request_id", r.ID), zap.String("enterprise_account_id", r.EnterpriseAccountID),
		zap.String("status", decided.Status))
	return decided, nil
}

// listLinkRequests lists the account's link requests, newest first, for its
// applicant. Requesters appear with masked names and ID numbers only.
func (s *Server) listLinkRequests(c echo.Context) error {
	account, err := s.accountWithRole(c, models.RoleApplicant)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && !slices.Contains(models.LinkStatuses, status) {
		return Fail(CodeInvalidStatus)
	}
	items, err := s.store.LinkRequestsOfAccount(c.Request().Context(), account.ID, status)
	if err != nil {
		return err
	}
	views := make([]applicantLinkRequestView, 0, len(items))
	for _, item := range items {
		views = append(views, newApplicantLinkRequestView(item))
	}
	return c.JSON(http.StatusOK, map[string]any{"link_requests": views})
}
