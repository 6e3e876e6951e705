package api

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/workflows"
)

var mainlandMobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// accountWithRole loads the :id account of an enterprise session acting for
// it and checks the caller holds one of roles: 404 for non-members, 403 for
// members without the role or without an enterprise session.
func (s *Server) accountWithRole(c echo.Context, roles ...string) (models.MemberAccount, error) {
	return s.accountByIDWithRole(c, c.Param("id"), roles...)
}

// accountByIDWithRole is accountWithRole for an account id from elsewhere than the path.
func (s *Server) accountByIDWithRole(c echo.Context, id string, roles ...string) (models.MemberAccount, error) {
	account, err := s.memberAccountByID(c, id)
	if err != nil {
		return models.MemberAccount{}, err
	}
	session := currentSession(c)
	if session.Kind != models.SessionEnterprise {
		return models.MemberAccount{}, Fail(CodeEnterpriseSessionRequired)
	}
	// A session from the 法人账号 password acts as the applicant, not as the
	// legal representative, so acts reserved to the legal representative
	// need a session from face login.
	if session.PasswordLogin && !slices.Contains(roles, models.RoleApplicant) {
		return models.MemberAccount{}, Fail(CodeFaceLoginRequired)
	}
	if !account.HasRole(roles...) {
		return models.MemberAccount{}, Fail(CodeForbidden)
	}
	return account, nil
}

type inviteRequest struct {
	Name     string `json:"name"`
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Mobile   string `json:"mobile"`
}

type inviteeView struct {
	NameMasked     string `json:"name_masked"`
	IDNumberMasked string `json:"id_number_masked"`
}

type invitationView struct {
	ID                  string      `json:"id"`
	EnterpriseAccountID string      `json:"enterprise_account_id"`
	Status              string      `json:"status"`
	ShareToken          string      `json:"share_token,omitempty"`
	ShareURL            string      `json:"share_url,omitempty"`
	Invitee             inviteeView `json:"invitee"`
	FailedVerifications int         `json:"failed_verifications"`
	AgentPersonID       *string     `json:"agent_person_id,omitempty"`
	ExpiresAt           time.Time   `json:"expires_at"`
	CreatedAt           time.Time   `json:"created_at"`
	EndedAt             *time.Time  `json:"ended_at,omitempty"`
}

func newInvitationView(inv models.AgentInvitation) invitationView {
	return invitationView{
		ID:                  inv.ID,
		EnterpriseAccountID: inv.EnterpriseAccountID,
		Status:              inv.Status,
		Invitee:             inviteeView{NameMasked: inv.InviteeNameMasked, IDNumberMasked: inv.InviteeIDNumberMasked},
		FailedVerifications: inv.FailedVerifications,
		AgentPersonID:       inv.AgentPersonID,
		ExpiresAt:           inv.ExpiresAt.UTC(),
		CreatedAt:           inv.CreatedAt.UTC(),
		EndedAt:             inv.EndedAt,
	}
}

// createInvitation lets the legal representative invite an agent (经办人授权)
// and returns the share link to send over WeChat.
func (s *Server) createInvitation(c echo.Context) error {
	account, err := s.accountWithRole(c, models.RoleLegalRepresentative)
	if err != nil {
		return err
	}
	var req inviteRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	invitee, err := parseIdentity(req.Name, req.IDType, req.IDNumber)
	if err != nil {
		return err
	}
	if !identity.DocType(invitee.IDType).FaceVerifiable() {
		return Fail(CodeUnsupportedDocument)
	}
	mobile := strings.TrimSpace(req.Mobile)
	if mobile != "" && !mainlandMobile.MatchString(mobile) {
		return Fail(CodeInvalidMobile)
	}

	invitationID := secure.NewID()
	shareToken := newShareToken(shareInvitation)
	expiresAt := s.now().Add(s.cfg.InvitationTTL).Truncate(time.Second)
	session := currentSession(c)
	input := workflows.AgentInvitationInput{
		InvitationID:    invitationID,
		AccountID:       account.ID,
		InviterID:       session.PersonID,
		Invitee:         invitee,
		Mobile:          mobile,
		ShareTokenHash:  secure.HashToken(shareToken),
		ExpiresAt:       expiresAt,
		VerificationTTL: s.cfg.FaceVerificationTTL,
		CallbackURL:     s.callbackURL(),
	}
	newStart := func() client.WithStartWorkflowOperation {
		return s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID:                       workflows.AgentInvitationID(invitationID),
			TaskQueue:                s.cfg.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			StaticSummary:            workflows.AgentInvitationSummary(account.EnterpriseName),
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.AttrFlowKind.ValueSet(workflows.KindAgentInvitation),
				workflows.AttrFlowStatus.ValueSet(models.InvitationPending),
				workflows.AttrEnterpriseAccountID.ValueSet(account.ID),
				workflows.AttrUSCC.ValueSet(account.USCC),
				workflows.AttrExpiresAt.ValueSet(expiresAt),
			),
		}, workflows.AgentInvitationWorkflow, input)
	}
	err = s.updateWithStart(c.Request().Context(), newStart, client.UpdateWorkflowOptions{
		UpdateID:     invitationID,
		UpdateName:   workflows.UpdateBeginInvitation,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}, nil)
	if err != nil {
		return invitationError(err)
	}

	s.log.Info("agent invitation created", zap.String("request_id", requestID(c)),
		zap.String("invitation_id", invitationID), zap.String("enterprise_account_id", account.ID))
	view := invitationView{
		ID:                  invitationID,
		EnterpriseAccountID: account.ID,
		Status:              models.InvitationPending,
		ShareToken:          shareToken,
		ShareURL:            s.cfg.PublicURL + "/v1/shares/" + shareToken,
		Invitee:             inviteeView{NameMasked: identity.MaskName(invitee.Name), IDNumberMasked: identity.MaskIDNumber(invitee.IDNumber)},
		ExpiresAt:           expiresAt,
		CreatedAt:           s.now(),
	}
	return c.JSON(http.StatusCreated, view)
}

// invitationError maps the errors an invitation's updates return.
func invitationError(err error) error {
	return flowUpdateError(err, CodeInvitationNotPending, map[string]Code{
		activities.ErrTypeInvitationPending: CodeInvitationPending,
		activities.ErrTypeAlreadyAgent:      CodeAlreadyAgent,
		activities.ErrTypeAlreadyMember:     CodeAlreadyMember,
	})
}

// flowUpdateError maps the error of an update sent to a flow. A flow that
// rejected the update as no longer pending gets notPending, and so does one
// that closed before it could take it, for which Temporal returns NotFound.
// The application error types in codes get their codes. Anything else means
// that Temporal or the worker could not be reached in time.
func flowUpdateError(err error, notPending Code, codes map[string]Code) error {
	errType := applicationErrorType(err)
	if code, ok := codes[errType]; ok {
		return FailWith(code, err)
	}
	var closed *serviceerror.NotFound
	if errType == workflows.ErrTypeNotPending || errors.As(err, &closed) {
		return FailWith(notPending, err)
	}
	return FailWith(CodeServiceUnavailable, err)
}

// applicationErrorType returns the type of the first Temporal application
// error in err's chain, or "".
func applicationErrorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func (s *Server) callbackURL() string { return s.cfg.PublicURL + "/v1/callbacks/face-verification" }

var invitationStatuses = map[string]bool{
	models.InvitationPending: true, models.InvitationAccepted: true, models.InvitationRevoked: true,
	models.InvitationExpired: true, models.InvitationFailed: true,
}

// listInvitations lists the account's invitations for the legal representative.
func (s *Server) listInvitations(c echo.Context) error {
	account, err := s.accountWithRole(c, models.RoleLegalRepresentative)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && !invitationStatuses[status] {
		return Fail(CodeInvalidStatus)
	}
	rows, err := s.store.InvitationsOfAccount(c.Request().Context(), account.ID, status)
	if err != nil {
		return err
	}
	views := make([]invitationView, 0, len(rows))
	for _, inv := range rows {
		views = append(views, newInvitationView(inv))
	}
	return c.JSON(http.StatusOK, map[string]any{"agent_invitations": views})
}

// revokeInvitation lets the legal representative revoke a pending invitation.
func (s *Server) revokeInvitation(c echo.Context) error {
	id := c.Param("id")
	if !resourceID.MatchString(id) {
		return Fail(CodeNotFound)
	}
	ctx := c.Request().Context()
	inv, err := s.store.Invitation(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return Fail(CodeNotFound)
	}
	if err != nil {
		return err
	}
	if _, err := s.accountByIDWithRole(c, inv.EnterpriseAccountID, models.RoleLegalRepresentative); err != nil {
		return err
	}
	if inv.Status != models.InvitationPending {
		return Fail(CodeInvitationNotPending)
	}
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   inv.WorkflowID,
		UpdateName:   workflows.UpdateRevokeInvitation,
		Args:         []any{workflows.RevokeRequest{ActorID: currentSession(c).PersonID}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	if err != nil {
		return invitationError(err)
	}
	inv, err = s.store.Invitation(ctx, id)
	if err != nil {
		return err
	}
	s.log.Info("agent invitation revoked", zap.String("request_id", requestID(c)), zap.String("invitation_id", id))
	return c.JSON(http.StatusOK, newInvitationView(inv))
}

type invitationPreview struct {
	Kind              string     `json:"kind"`
	Status            string     `json:"status"`
	EnterpriseName    string     `json:"enterprise_name,omitempty"`
	InviterNameMasked string     `json:"inviter_name_masked,omitempty"`
	InviteeNameMasked string     `json:"invitee_name_masked,omitempty"`
	ExpiresAt         *time.Time `json:"expires_at,omitempty"`
}

// invitationByToken finds the invitation a share token opens, or 404.
func (s *Server) invitationByToken(c echo.Context, token string) (models.AgentInvitation, error) {
	inv, err := s.store.InvitationByShareToken(c.Request().Context(), secure.HashToken(token))
	return inv, fromStore(err)
}

// previewInvitation shows the invitee what the link opens, with masked
// names only, and nothing but its status once it is no longer pending.
func (s *Server) previewInvitation(c echo.Context, token string) error {
	inv, err := s.invitationByToken(c, token)
	if err != nil {
		return err
	}
	view := invitationPreview{Kind: shareKindInvitation, Status: inv.Status}
	if inv.Status == models.InvitationPending {
		ctx := c.Request().Context()
		account, err := s.store.EnterpriseAccount(ctx, inv.EnterpriseAccountID)
		if err != nil {
			return err
		}
		inviter, err := s.store.Person(ctx, inv.InviterPersonID)
		if err != nil {
			return err
		}
		expiresAt := inv.ExpiresAt.UTC()
		view.EnterpriseName = account.EnterpriseName
		view.InviterNameMasked = inviter.NameMasked
		view.InviteeNameMasked = inv.InviteeNameMasked
		view.ExpiresAt = &expiresAt
	}
	return c.JSON(http.StatusOK, view)
}

// verifyInvitee starts a face verification of the invitee for a pending
// invitation; passing it makes the invitee an agent.
func (s *Server) verifyInvitee(c echo.Context, token string) error {
	inv, err := s.invitationByToken(c, token)
	if err != nil {
		return err
	}
	if inv.Status != models.InvitationPending {
		return Fail(CodeInvitationNotPending)
	}
	if !s.limits.perIP.allow(c.RealIP(), s.now()) {
		return Fail(CodeTooManyAttempts)
	}
	ctx := c.Request().Context()
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   inv.WorkflowID,
		UpdateName:   workflows.UpdateStartInviteeVerification,
		Args:         []any{workflows.StartVerificationRequest{VerificationID: secure.NewID()}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var v workflows.Verification
	if err == nil {
		err = handle.Get(ctx, &v)
	}
	if err != nil {
		return invitationError(err)
	}
	return c.JSON(http.StatusCreated, map[string]verificationView{"verification": {
		ID:            v.ID,
		Status:        models.VerificationPending,
		ProviderToken: v.ProviderToken,
		LaunchURL:     v.LaunchURL,
		ExpiresAt:     v.ExpiresAt,
	}})
}

type agentView struct {
	PersonID               string    `json:"person_id"`
	NameMasked             string    `json:"name_masked"`
	IDNumberMasked         string    `json:"id_number_masked"`
	AuthorizedBy           *string   `json:"authorized_by"`
	AuthorizedByNameMasked string    `json:"authorized_by_name_masked,omitempty"`
	AuthorizedAt           time.Time `json:"authorized_at"`
	Via                    string    `json:"via"`
}

// listAgents lists the account's current agents for the legal
// representative and the applicant.
func (s *Server) listAgents(c echo.Context) error {
	account, err := s.accountWithRole(c, models.RoleLegalRepresentative, models.RoleApplicant)
	if err != nil {
		return err
	}
	agents, err := s.store.Agents(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	views := make([]agentView, 0, len(agents))
	for _, a := range agents {
		views = append(views, agentView(a))
	}
	return c.JSON(http.StatusOK, map[string]any{"agents": views})
}

// removeAgent ends an agent's authorisation; their enterprise sessions for
// the account stop working at once.
func (s *Server) removeAgent(c echo.Context) error {
	account, err := s.accountWithRole(c, models.RoleLegalRepresentative)
	if err != nil {
		return err
	}
	personID := c.Param("person_id")
	if !resourceID.MatchString(personID) {
		return Fail(CodeNotFound)
	}
	err = s.store.RemoveAgent(c.Request().Context(), account.ID, personID, currentSession(c).PersonID)
	if errors.Is(err, models.ErrNotFound) {
		return Fail(CodeNotFound)
	}
	if err != nil {
		return err
	}
	s.log.Info("agent removed", zap.String("request_id", requestID(c)), zap.String("enterprise_account_id", account.ID), zap.String("person_id", personID))
	return c.NoContent(http.StatusNoContent)
}
