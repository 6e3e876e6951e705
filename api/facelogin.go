package api

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/workflows"
)

// HeaderClientSecret carries the secret returned when a face login starts.
const HeaderClientSecret = "X-Client-Secret"

// sessionTokenPurpose separates face-login session tokens from other derived tokens.
const sessionTokenPurpose = "face-login-session"

var resourceID = regexp.MustCompile(`^[0-9a-f]{32}$`)

type startFaceLoginRequest struct {
	Name     string `json:"name"`
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
}

type verificationView struct {
	ID            string    `json:"id"`
	Status        string    `json:"status"`
	ProviderToken string    `json:"provider_token"`
	LaunchURL     string    `json:"launch_url"`
	ExpiresAt     time.Time `json:"expires_at"`
}

type startFaceLoginResponse struct {
	ID           string           `json:"id"`
	Status       string           `json:"status"`
	ClientSecret string           `json:"client_secret"`
	Verification verificationView `json:"verification"`
	ExpiresAt    time.Time        `json:"expires_at"`
}

// parseIdentity validates a name and identity document from a request.
func parseIdentity(name, idType, idNumber string) (face.Identity, error) {
	docType, err := identity.ParseDocType(idType)
	if err != nil {
		return face.Identity{}, Fail(CodeInvalidIDType)
	}
	cleanName, err := identity.NormalizeName(name)
	if err != nil {
		return face.Identity{}, Fail(CodeInvalidName)
	}
	number, err := identity.NormalizeIDNumber(docType, idNumber)
	if err != nil {
		return face.Identity{}, Fail(CodeInvalidIDNumber)
	}
	return face.Identity{IDType: string(docType), IDNumber: number, Name: cleanName}, nil
}

// startFaceLogin validates the identity, applies the rate limits and starts
// the face-login workflow with an update that returns once the provider
// session and the rows exist.
func (s *Server) startFaceLogin(c echo.Context) error {
	var req startFaceLoginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	claimed, err := parseIdentity(req.Name, req.IDType, req.IDNumber)
	if err != nil {
		return err
	}
	if !identity.DocType(claimed.IDType).FaceVerifiable() {
		return Fail(CodeUnsupportedDocument)
	}
	ctx := c.Request().Context()
	now := s.now()
	idHash := s.store.LookupHash(claimed.IDType, claimed.IDNumber)
	if err := s.checkFaceLoginLimits(c, idHash, now); err != nil {
		return err
	}

	loginID, verificationID := secure.NewID(), secure.NewID()
	clientSecret := secure.NewToken()
	expiresAt := now.Add(s.cfg.FaceVerificationTTL).Truncate(time.Second)
	sessionToken := s.keys.DeriveToken(sessionTokenPurpose, loginID+"."+clientSecret)
	input := workflows.FaceLoginInput{
		LoginID:          loginID,
		VerificationID:   verificationID,
		Expected:         claimed,
		ClientSecretHash: secure.HashToken(clientSecret),
		IDHash:           idHash,
		SessionTokenHash: secure.HashToken(sessionToken),
		SessionTTL:       s.cfg.SessionTTL,
		ExpiresAt:        expiresAt,
		CallbackURL:      s.cfg.PublicURL + "/v1/callbacks/face-verification",
	}
	newStart := func() client.WithStartWorkflowOperation {
		return s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID:                       workflows.FaceLoginID(loginID),
			TaskQueue:                s.cfg.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			StaticSummary:            workflows.FaceLoginSummary,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.AttrFlowKind.ValueSet(workflows.KindFaceLogin),
				workflows.AttrFlowStatus.ValueSet(models.LoginPending),
				workflows.AttrExpiresAt.ValueSet(expiresAt),
			),
		}, workflows.FaceLoginWorkflow, input)
	}
	var v workflows.Verification
	err = s.updateWithStart(ctx, newStart, client.UpdateWorkflowOptions{
		UpdateID:     loginID,
		UpdateName:   workflows.UpdateBeginFaceLogin,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}, &v)
	if err != nil {
		return FailWith(CodeServiceUnavailable, err)
	}
	s.log.Info("face login started", zap.String("request_id", requestID(c)), zap.String("face_login_id", loginID))
	return c.JSON(http.StatusCreated, startFaceLoginResponse{
		ID:           loginID,
		Status:       models.LoginPending,
		ClientSecret: clientSecret,
		Verification: verificationView{
			ID:            v.ID,
			Status:        models.VerificationPending,
			ProviderToken: v.ProviderToken,
			LaunchURL:     v.LaunchURL,
			ExpiresAt:     v.ExpiresAt,
		},
		ExpiresAt: expiresAt,
	})
}

// checkFaceLoginLimits applies the per-IP and per-ID-number limits. The
// per-ID limit counts stored logins too, so it holds across API processes.
func (s *Server) checkFaceLoginLimits(c echo.Context, idHash string, now time.Time) error {
	if !s.limits.perIP.allow(c.RealIP(), now) {
		return Fail(CodeTooManyAttempts)
	}
	limit := s.cfg.FaceLoginLimitPerID
	if limit.Off() {
		return nil
	}
	if !s.limits.perID.allow(idHash, now) {
		return Fail(CodeTooManyAttempts)
	}
	n, err := s.store.CountFaceLoginsSince(c.Request().Context(), idHash, now.Add(-limit.Window))
	if err != nil {
		return err
	}
	if n >= int64(limit.Count) {
		return Fail(CodeTooManyAttempts)
	}
	return nil
}

type faceLoginSession struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

type personView struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	IDNumberMasked string `json:"id_number_masked"`
}

type faceLoginView struct {
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	FailureCode string            `json:"failure_code,omitempty"`
	Session     *faceLoginSession `json:"session,omitempty"`
	Person      *personView       `json:"person,omitempty"`
	ExpiresAt   time.Time         `json:"expires_at"`
}

// getFaceLogin returns a login's status to the client holding its secret.
// A wrong or missing secret is indistinguishable from an unknown login.
func (s *Server) getFaceLogin(c echo.Context) error {
	id := c.Param("id")
	secret := c.Request().Header.Get(HeaderClientSecret)
	if !resourceID.MatchString(id) || secret == "" || len(secret) > 256 {
		return Fail(CodeNotFound)
	}
	ctx := c.Request().Context()
	login, err := s.store.FaceLogin(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return Fail(CodeNotFound)
	}
	if err != nil {
		return err
	}
	if !secure.Equal(login.ClientSecretHash, secure.HashToken(secret)) {
		return Fail(CodeNotFound)
	}
	view := faceLoginView{ID: login.ID, Status: login.Status, FailureCode: login.FailureCode, ExpiresAt: login.ExpiresAt.UTC()}
	if login.Status == models.LoginSucceeded && login.PersonID != nil {
		person, err := s.store.Person(ctx, *login.PersonID)
		if err != nil {
			return err
		}
		name, err := s.store.PersonName(person)
		if err != nil {
			return err
		}
		view.Person = &personView{ID: person.ID, Name: name, IDNumberMasked: person.IDNumberMasked}
		if login.SessionExpiresAt != nil && login.SessionExpiresAt.After(s.now()) {
			view.Session = &faceLoginSession{
				Token:     s.keys.DeriveToken(sessionTokenPurpose, login.ID+"."+secret),
				ExpiresAt: login.SessionExpiresAt.UTC(),
			}
		}
	}
	return c.JSON(http.StatusOK, view)
}

// reportVerification is called by the app when the user returns from the
// mini program. It only wakes the flow, which pulls the result itself.
func (s *Server) reportVerification(c echo.Context) error {
	id := c.Param("id")
	if !resourceID.MatchString(id) {
		return Fail(CodeNotFound)
	}
	ctx := c.Request().Context()
	v, err := s.store.Verification(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return Fail(CodeNotFound)
	}
	if err != nil {
		return err
	}
	if err := s.signalReported(c, v); err != nil {
		return err
	}
	report := map[string]string{"id": v.ID, "status": v.Status}
	if v.FailureCode != "" {
		report["failure_code"] = v.FailureCode
	}
	return c.JSON(http.StatusAccepted, report)
}

// signalReported wakes the flow that owns v. A flow that already finished
// has nothing to do, so that case is not an error.
func (s *Server) signalReported(c echo.Context, v models.FaceVerification) error {
	if v.Status != models.VerificationPending {
		return nil
	}
	err := s.temporal.SignalWorkflow(c.Request().Context(), v.WorkflowID, "", workflows.SignalVerificationReported,
		workflows.VerificationReported{VerificationID: v.ID})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return FailWith(CodeServiceUnavailable, err)
	}
	return nil
}

// faceCallback accepts a provider push. The signature and timestamp are
// checked first; the body only names the verification, whose result the
// flow then pulls from the provider. Duplicates and unknown tokens have no effect.
func (s *Server) faceCallback(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	req := c.Request()
	err = face.VerifySignature([]byte(s.cfg.FaceCallbackSecret), req.Header.Get(face.HeaderTimestamp),
		req.Header.Get(face.HeaderSignature), body, s.now())
	if err != nil {
		return Fail(CodeInvalidSignature)
	}
	var cb face.CallbackBody
	if err := bindJSON(c, &cb); err != nil {
		return err
	}
	if cb.ProviderToken == "" || len(cb.ProviderToken) > 512 {
		return Fail(CodeInvalidRequest)
	}
	v, err := s.store.VerificationByProviderToken(req.Context(), secure.HashToken(cb.ProviderToken))
	if errors.Is(err, models.ErrNotFound) {
		s.log.Warn("callback for an unknown verification", zap.String("request_id", requestID(c)))
		return c.JSON(http.StatusOK, map[string]bool{"received": true})
	}
	if err != nil {
		return err
	}
	if err := s.signalReported(c, v); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"received": true})
}
