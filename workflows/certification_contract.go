package workflows

import "time"

// Certification request contract: an agent asks the legal representative
// to certify an enterprise account (经办人企业账户认证).
const (
	CertificationRequestWorkflow = "CertificationRequest"
	KindCertificationRequest     = "certification-request"

	// UpdateBeginCertificationRequest returns once the request's row
	// exists, or fails with activities.ErrTypeCertificationRequestOpen or
	// ErrTypeAlreadyCertified. The API sends it with the start.
	UpdateBeginCertificationRequest = "begin-certification-request"
	// UpdateAgreeCertification records the legal representative's consent
	// and returns a new face verification that expects the registry's
	// current legal representative. Sent again while the request is
	// pending_verification, it returns another verification.
	UpdateAgreeCertification = "agree-certification"
	// UpdateRefuseCertification ends the request as refused.
	UpdateRefuseCertification = "refuse-certification"
	// UpdateCancelCertification ends the request as cancelled.
	UpdateCancelCertification = "cancel-certification"

	// MaxCertificationVerificationFailures ends a request as failed.
	MaxCertificationVerificationFailures = 3
	// MaxCertificationVerifications bounds the verifications one request
	// may start at the provider, failed or not.
	MaxCertificationVerifications = 10

	// ErrTypeCertificationRequestNotOpen is the application error type of
	// the agree, refuse and cancel updates once the request has ended or
	// is ending. Their validators return it, so the API responds with 409
	// without waiting for the workflow.
	ErrTypeCertificationRequestNotOpen = "CertificationRequestNotOpen"
	// ErrTypeTooManyVerifications rejects an agree past
	// MaxCertificationVerifications.
	ErrTypeTooManyVerifications = "TooManyVerifications"
)

// CertificationNotCreated is the final YstFlowStatus and result status of a
// certification-request flow whose request was never stored, because the
// account was certified or had an open request by then. It is not a status
// of the request: the API returned 409 and the app shows no such request.
const CertificationNotCreated = "not_created"

// CertificationRequestID is the workflow ID of the certification request
// with the given id.
func CertificationRequestID(id string) string { return KindCertificationRequest + "/" + id }

// CertificationRequestSummary is the zh-CN StaticSummary of a certification
// request, naming the enterprise.
func CertificationRequestSummary(enterpriseName string) string {
	return "企业账户认证申请 · " + enterpriseName
}

// CertificationRequestInput starts a certification request. USCC is the
// account's, by which the flow reads the legal representative from the
// registry when the verification begins and again before certifying.
type CertificationRequestInput struct {
	RequestID          string
	AccountID          string
	USCC               string
	RequesterID        string
	ShareTokenHash     string
	LegalRepNameMasked string
	ExpiresAt          time.Time
	VerificationTTL    time.Duration
	CallbackURL        string
}

// AgreeCertificationRequest is the argument of UpdateAgreeCertification.
// The API generates VerificationID, so a retried update begins the same
// verification.
type AgreeCertificationRequest struct {
	VerificationID string
}

// CancelCertificationRequest is the argument of UpdateCancelCertification.
type CancelCertificationRequest struct {
	ActorID string
}

// CertificationDecisionResult is the result of the refuse and cancel updates.
type CertificationDecisionResult struct {
	Status string
}

// CertificationRequestResult is the result of a finished request.
// LegalRepPersonID is set when it certified the account.
type CertificationRequestResult struct {
	Status           string
	LegalRepPersonID string
}
