package workflows

import "time"

// Account link contract: a person requests to become an agent of a certified
// enterprise account, and the account's applicant approves or rejects the
// request (关联他人的企业账号).
const (
	AccountLinkWorkflow = "AccountLink"
	KindAccountLink     = "account-link"

	// UpdateBeginAccountLink returns once the request's row exists, or
	// fails with activities.ErrTypeAccountNotCertified, ErrTypeAlreadyMember
	// or ErrTypeLinkRequestOpen. The API sends it with the start.
	UpdateBeginAccountLink = "begin-account-link"
	// UpdateApproveAccountLink approves the request, which makes the
	// requester an agent of the account. Its argument is a LinkDecision.
	UpdateApproveAccountLink = "approve-account-link"
	// UpdateRejectAccountLink rejects the request. Its argument is a LinkDecision.
	UpdateRejectAccountLink = "reject-account-link"
	// UpdateCancelAccountLink cancels the request for its requester. Its
	// argument is a LinkDecision.
	UpdateCancelAccountLink = "cancel-account-link"
)

// The validators of the approve, reject and cancel updates reject, with an
// application error of type ErrTypeNotPending, a request that is no longer
// pending or whose decision is being stored. They reject with
// ErrTypeActorNotAllowed a cancellation by anyone but the requester and an
// approval or rejection by the requester.
const ErrTypeActorNotAllowed = "ActorNotAllowed"

// LinkNotCreated is the final YstFlowStatus of an account-link flow whose
// request was never stored, because the requester became a member, or
// opened another request, between the API's checks and the insert. It is
// never a status in the database.
const LinkNotCreated = "not_created"

// AccountLinkID is the workflow ID of the account link request with the given id.
func AccountLinkID(id string) string { return KindAccountLink + "/" + id }

// AccountLinkSummary is the zh-CN StaticSummary of an account link request.
func AccountLinkSummary(enterpriseName string) string {
	return "关联企业账号申请 · " + enterpriseName
}

// AccountLinkInput starts an account-link flow. It holds ids only, no
// personal data.
type AccountLinkInput struct {
	RequestID   string
	AccountID   string
	RequesterID string
	ExpiresAt   time.Time
}

// LinkDecision is the argument of the approve, reject and cancel updates:
// the person deciding, whom the API has authorised.
type LinkDecision struct {
	ActorID string
}

// AccountLinkResult is the result of a finished account-link flow.
type AccountLinkResult struct {
	Status string
}
