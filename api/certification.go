package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/workflows"
)

// The decisions POST /v1/shares/{token}/decision accepts on a
// certification request.
const (
	decisionAgree  = "agree"
	decisionRefuse = "refuse"
)

// mountCertificationRequests adds the requester's routes of certification
// requests. The share-link routes reach them through getShare and decideShare.
func (s *Server) mountCertificationRequests(v1 *echo.Group) {
	v1.POST("/enterprise-accounts/:id/certification-requests", s.createCertificationRequest, s.requireSession(anySession), s.idempotent)
	v1.GET("/certification-requests/:id", s.getCertificationRequest, s.requireSession(anySession))
	v1.DELETE("/certification-requests/:id", s.cancelCertificationRequest, s.requireSession(anySession))
}

type legalRepresentativeView struct {
	NameMasked string `json:"name_masked"`
}

// certificationRequestView is a certification request as shown to its
// requester. The share token exists only in the response that created it.
type certificationRequestView struct {
	ID                  string                  `json:"id"`
	EnterpriseAccountID string                  `json:"enterprise_account_id"`
	EnterpriseName      string                  `json:"enterprise_name"`
	Status              string                  `json:"status"`
	ShareToken          string                  `json:"share_token,omitempty"`
	ShareURL            string                  `json:"share_url,omitempty"`
	LegalRepresentative legalRepresentativeView `json:"legal_representative"`
	FailedVerifications int                     `json:"failed_verifications"`
	ExpiresAt           time.Time               `json:"expires_at"`
	CreatedAt           time.Time               `json:"created_at"`
	EndedAt             *time.Time              `json:"ended_at,omitempty"`
}

func newCertificationRequestView(r models.CertificationRequest, enterpriseName string) certificationRequestView {
	view := certificationRequestView{
		ID:                  r.ID,
		EnterpriseAccountID: r.EnterpriseAccountID,
		EnterpriseName:      enterpriseName,
		Status:              r.Status,
		LegalRepresentative: legalRepresentativeView{NameMasked: r.LegalRepNameMasked},
		FailedVerifications: r.FailedVerifications,
		ExpiresAt:           r.ExpiresAt.UTC(),
		CreatedAt:           r.CreatedAt.UTC(),
	}
	if r.EndedAt != nil {
		ended := r.EndedAt.UTC()
		view.EndedAt = &ended
	}
	return view
}

// createCertificationRequest lets a member of an uncertified account, in an
// enterprise session from face login, ask the registry's legal
// representative to certify it, and returns the share link to send them.
func (s *Server) createCertificationRequest(c echo.Context) error {
	if err := bindEmptyObject(c); err != nil {
		return err
	}
	account, err := s.accountWithRole(c, models.RoleApplicant, models.RoleAgent, models.RoleLegalRepresentative)
	if err != nil {
		return err
	}
	session := currentSession(c)
	if session.PasswordLogin {
		// The requester becomes an agent of the account, so it must be the
		// person who passed face login, not anyone who knows the password.
		return Fail(CodeFaceLoginRequired)
	}
	if account.Certified() {
		return Fail(CodeAlreadyCertified)
	}
	ctx := c.Request().Context()
	if _, err := s.store.OpenCertificationRequest(ctx, account.ID); !errors.Is(err, models.ErrNotFound) {
		if err != nil {
			return err
		}
		return Fail(CodeCertificationRequestOpen)
	}
	rep, err := s.verifiableLegalRep(ctx, account.USCC)
	if err != nil {
		return err
	}

	id := secure.NewID()
	shareToken := newShareToken(shareCertification)
	expiresAt := s.now().Add(s.cfg.CertificationRequestTTL).Truncate(time.Second)
	input := workflows.CertificationRequestInput{
		RequestID:          id,
		AccountID:          account.ID,
		USCC:               account.USCC,
		RequesterID:        session.PersonID,
		ShareTokenHash:     secure.HashToken(shareToken),
		LegalRepNameMasked: identity.MaskName(rep.Name),
		ExpiresAt:          expiresAt,
		VerificationTTL:    s.cfg.FaceVerificationTTL,
		CallbackURL:        s.callbackURL(),
	}
	if err := s.startCertificationRequest(ctx, account, input); err != nil {
		return err
	}

	s.log.Info("certification request created", zap.String("request_id", requestID(c)),
		zap.String("certification_request_id", id), zap.String("enterprise_account_id", account.ID))
	view := certificationRequestView{
		ID:                  id,
		EnterpriseAccountID: account.ID,
		EnterpriseName:      account.EnterpriseName,
		Status:              models.CertificationPendingConsent,
		ShareToken:          shareToken,
		ShareURL:            s.cfg.PublicURL + "/v1/shares/" + shareToken,
		LegalRepresentative: legalRepresentativeView{NameMasked: input.LegalRepNameMasked},
		ExpiresAt:           expiresAt,
		CreatedAt:           s.now(),
	}
	return c.JSON(http.StatusCreated, view)
}

// bindEmptyObject accepts an empty body or an empty JSON object, for a POST
// whose parameters are all in its path.
func bindEmptyObject(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return bindJSON(c, &struct{}{})
}

// verifiableLegalRep reads the enterprise's legal representative from the
// registry and checks that a face verification can confirm them.
func (s *Server) verifiableLegalRep(ctx context.Context, uscc string) (registry.LegalRepresentative, error) {
	enterprise, err := s.registry.Lookup(ctx, uscc)
	if errors.Is(err, registry.ErrNotFound) {
		return registry.LegalRepresentative{}, Fail(CodeEnterpriseNotFound)
	}
	if err != nil {
		return registry.LegalRepresentative{}, FailWith(CodeServiceUnavailable, err)
	}
	if !enterprise.Active() {
		return registry.LegalRepresentative{}, Fail(CodeEnterpriseInactive)
	}
	if !enterprise.LegalRep.IDType.FaceVerifiable() {
		return registry.LegalRepresentative{}, Fail(CodeLegalRepNotVerifiable)
	}
	return enterprise.LegalRep, nil
}

// startCertificationRequest starts the workflow with an update that
// returns once the request's row exists.
func (s *Server) startCertificationRequest(ctx context.Context, account models.MemberAccount, in workflows.CertificationRequestInput) error {
	newStart := func() client.WithStartWorkflowOperation {
		return s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID:                       workflows.CertificationRequestID(in.RequestID),
			TaskQueue:                s.cfg.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			StaticSummary:            workflows.CertificationRequestSummary(account.EnterpriseName),
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.AttrFlowKind.ValueSet(workflows.KindCertificationRequest),
				workflows.AttrFlowStatus.ValueSet(models.CertificationPendingConsent),
				workflows.AttrEnterpriseAccountID.ValueSet(account.ID),
				workflows.AttrUSCC.ValueSet(account.USCC),
				workflows.AttrExpiresAt.ValueSet(in.ExpiresAt),
			),
		}, workflows.CertificationRequestWorkflow, in)
	}
	err := s.updateWithStart(ctx, newStart, client.UpdateWorkflowOptions{
		UpdateID:     in.RequestID,
		UpdateName:   workflows.UpdateBeginCertificationRequest,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}, nil)
	if err != nil {
		return certificationError(err)
	}
	return nil
}

// certificationError maps the errors of a certification request's updates.
// A workflow that already closed has nothing open left to change.
func certificationError(err error) error {
	return flowUpdateError(err, CodeCertificationRequestNotOpen, map[string]Code{
		activities.ErrTypeCertificationRequestOpen:   CodeCertificationRequestOpen,
		activities.ErrTypeAlreadyCertified:           CodeAlreadyCertified,
		workflows.ErrTypeCertificationRequestNotOpen: CodeCertificationRequestNotOpen,
		activities.ErrTypeCertificationRequestEnded:  CodeCertificationRequestNotOpen,
		activities.ErrTypeEnterpriseNotFound:         CodeEnterpriseNotFound,
		activities.ErrTypeEnterpriseInactive:         CodeEnterpriseInactive,
		activities.ErrTypeLegalRepNotVerifiable:      CodeLegalRepNotVerifiable,
		workflows.ErrTypeTooManyVerifications:        CodeTooManyAttempts,
	})
}

// requestedCertification loads the :id certification request for its
// requester. Anyone else gets 404, and so does the requester's enterprise
// session acting for another account, as with the account's own paths.
func (s *Server) requestedCertification(c echo.Context) (models.CertificationRequest, error) {
	id := c.Param("id")
	if !resourceID.MatchString(id) {
		return models.CertificationRequest{}, Fail(CodeNotFound)
	}
	r, err := s.store.CertificationRequest(c.Request().Context(), id)
	if errors.Is(err, models.ErrNotFound) {
		return models.CertificationRequest{}, Fail(CodeNotFound)
	}
	if err != nil {
		return models.CertificationRequest{}, err
	}
	session := currentSession(c)
	if session.PersonID != r.RequesterPersonID {
		return models.CertificationRequest{}, Fail(CodeNotFound)
	}
	if session.Kind == models.SessionEnterprise && (session.EnterpriseAccountID == nil || *session.EnterpriseAccountID != r.EnterpriseAccountID) {
		return models.CertificationRequest{}, Fail(CodeNotFound)
	}
	return r, nil
}

// respondCertificationRequest returns the request with its enterprise's name.
func (s *Server) respondCertificationRequest(c echo.Context, r models.CertificationRequest) error {
	account, err := s.store.EnterpriseAccount(c.Request().Context(), r.EnterpriseAccountID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newCertificationRequestView(r, account.EnterpriseName))
}

// getCertificationRequest returns a certification request to its requester.
func (s *Server) getCertificationRequest(c echo.Context) error {
	r, err := s.requestedCertification(c)
	if err != nil {
		return err
	}
	return s.respondCertificationRequest(c, r)
}

// cancelCertificationRequest lets the requester cancel an open request.
func (s *Server) cancelCertificationRequest(c echo.Context) error {
	r, err := s.requestedCertification(c)
	if err != nil {
		return err
	}
	if !r.Open() {
		return Fail(CodeCertificationRequestNotOpen)
	}
	ctx := c.Request().Context()
	arg := workflows.CancelCertificationRequest{ActorID: currentSession(c).PersonID}
	if err := s.updateCertification(ctx, r, workflows.UpdateCancelCertification, nil, arg); err != nil {
		return err
	}

	s.log.Info("certification request cancelled", zap.String("request_id", requestID(c)), zap.String("certification_request_id", r.ID))
	r, err = s.store.CertificationRequest(ctx, r.ID)
	if err != nil {
		return err
	}
	return s.respondCertificationRequest(c, r)
}

// updateCertification sends an update to the request's workflow, waits for
// its result into out (nil to drop it) and maps its errors.
func (s *Server) updateCertification(ctx context.Context, r models.CertificationRequest, update string, out any, args ...any) error {
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   r.WorkflowID,
		UpdateName:   update,
		Args:         args,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, out)
	}
	if err != nil {
		return certificationError(err)
	}
	return nil
}

// certificationPreview is the body of a certification request's share
// preview, which needs no session: masked names only while the request is
// open, and nothing but its status afterwards.
type certificationPreview struct {
	Kind                string     `json:"kind"`
	Status              string     `json:"status"`
	EnterpriseName      string     `json:"enterprise_name,omitempty"`
	RequesterNameMasked string     `json:"requester_name_masked,omitempty"`
	ExpiresAt           *time.Time `json:"expires_at,omitempty"`
}

// certificationByToken finds the request a share token opens, or 404.
func (s *Server) certificationByToken(c echo.Context, token string) (models.CertificationRequest, error) {
	r, err := s.store.CertificationRequestByShareToken(c.Request().Context(), secure.HashToken(token))
	return r, fromStore(err)
}

// previewCertificationRequest returns the share preview of the request a
// crq_ token opens.
func (s *Server) previewCertificationRequest(c echo.Context, token string) error {
	r, err := s.certificationByToken(c, token)
	if err != nil {
		return err
	}
	view := certificationPreview{Kind: shareKindCertification, Status: r.Status}
	if r.Open() {
		ctx := c.Request().Context()
		account, err := s.store.EnterpriseAccount(ctx, r.EnterpriseAccountID)
		if err != nil {
			return err
		}
		requester, err := s.store.Person(ctx, r.RequesterPersonID)
		if err != nil {
			return err
		}
		expiresAt := r.ExpiresAt.UTC()
		view.EnterpriseName = account.EnterpriseName
		view.RequesterNameMasked = requester.NameMasked
		view.ExpiresAt = &expiresAt
	}
	return c.JSON(http.StatusOK, view)
}

type certificationDecisionRequest struct {
	Decision string `json:"decision"`
}

// certificationDecisionResponse carries the verification to launch after
// an agree, and only the new status after a refuse.
type certificationDecisionResponse struct {
	Status       string            `json:"status"`
	Verification *verificationView `json:"verification,omitempty"`
}

// decideCertificationRequest records the legal representative's decision.
// agree returns a new face verification that expects the registry's legal
// representative; refuse ends the request.
func (s *Server) decideCertificationRequest(c echo.Context, token string) error {
	var req certificationDecisionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Decision != decisionAgree && req.Decision != decisionRefuse {
		return Fail(CodeInvalidDecision)
	}
	r, err := s.certificationByToken(c, token)
	if err != nil {
		return err
	}
	if !r.Open() {
		return Fail(CodeCertificationRequestNotOpen)
	}
	if req.Decision == decisionRefuse {
		return s.refuseCertification(c, r)
	}
	// Each agree starts a provider session, so it counts against the
	// per-IP limit of face-login starts.
	if !s.limits.perIP.allow(c.RealIP(), s.now()) {
		return Fail(CodeTooManyAttempts)
	}

	var v workflows.Verification
	arg := workflows.AgreeCertificationRequest{VerificationID: secure.NewID()}
	if err := s.updateCertification(c.Request().Context(), r, workflows.UpdateAgreeCertification, &v, arg); err != nil {
		return err
	}
	s.log.Info("certification request agreed", zap.String("request_id", requestID(c)),
		zap.String("certification_request_id", r.ID), zap.String("verification_id", v.ID))
	return c.JSON(http.StatusOK, certificationDecisionResponse{
		Status: models.CertificationPendingVerification,
		Verification: &verificationView{
			ID:            v.ID,
			Status:        models.VerificationPending,
			ProviderToken: v.ProviderToken,
			LaunchURL:     v.LaunchURL,
			ExpiresAt:     v.ExpiresAt,
		},
	})
}

func (s *Server) refuseCertification(c echo.Context, r models.CertificationRequest) error {
	var res workflows.CertificationDecisionResult
	if err := s.updateCertification(c.Request().Context(), r, workflows.UpdateRefuseCertification, &res); err != nil {
		return err
	}
	s.log.Info("certification request refused", zap.String("request_id", requestID(c)), zap.String("certification_request_id", r.ID))
	return c.JSON(http.StatusOK, certificationDecisionResponse{Status: res.Status})
}
