// Package workflows holds the durable flows that wait on people, and their
// contract with the API: workflow, signal, update and query names, workflow
// IDs, inputs and search attributes. The API uses only this contract; it
// never calls a workflow function itself.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/face"
)

// Workflow type names.
const (
	FaceLoginWorkflow = "FaceLogin"
	// SweepWorkflow expires flows left pending in the database past their
	// deadline and purges old sessions. The SweepScheduleID schedule starts it.
	SweepWorkflow = "Sweep"
)

// SweepScheduleID is the ID of the Temporal Schedule that starts
// SweepWorkflow every hour. The worker creates it at start.
const SweepScheduleID = "yst-sweep"

// Signal, update and query names.
const (
	// SignalVerificationReported notifies a flow that the user returned from
	// the mini program or the provider pushed a callback. The flow then
	// pulls the result from the provider; the signal carries no result.
	SignalVerificationReported = "face-verification-reported"
	// UpdateBeginFaceLogin returns the verification once the login's rows
	// and the provider session exist. The API sends it with the start.
	UpdateBeginFaceLogin = "begin-face-login"
	// QueryStatus returns the flow's current status.
	QueryStatus = "status"
)

// Flow kinds, the first part of each workflow ID and the YstFlowKind value.
const (
	KindFaceLogin = "face-login"
)

// FaceLoginID is the workflow ID of the face login with the given id.
func FaceLoginID(id string) string { return KindFaceLogin + "/" + id }

// Search attributes support staff filter flows by. They never carry
// personal data: ids are random and USCCs identify enterprises, not people.
var (
	AttrFlowKind            = temporal.NewSearchAttributeKeyKeyword("YstFlowKind")
	AttrFlowStatus          = temporal.NewSearchAttributeKeyKeyword("YstFlowStatus")
	AttrEnterpriseAccountID = temporal.NewSearchAttributeKeyKeyword("YstEnterpriseAccountID")
	AttrUSCC                = temporal.NewSearchAttributeKeyKeyword("YstUSCC")
	AttrExpiresAt           = temporal.NewSearchAttributeKeyTime("YstExpiresAt")
)

// SearchAttributeKeys lists every custom search attribute above, for yst
// temporal-setup to register on a cluster.
var SearchAttributeKeys = []temporal.SearchAttributeKey{
	AttrFlowKind, AttrFlowStatus, AttrEnterpriseAccountID, AttrUSCC, AttrExpiresAt,
}

// FaceLoginInput starts a face login. Expected is personal data, so the
// payload codec encrypts it like every other payload.
type FaceLoginInput struct {
	LoginID          string
	VerificationID   string
	Expected         face.Identity
	ClientSecretHash string
	IDHash           string
	SessionTokenHash string
	SessionTTL       time.Duration
	ExpiresAt        time.Time
	CallbackURL      string
}

// VerificationReported is the payload of SignalVerificationReported.
type VerificationReported struct {
	VerificationID string
}

// FaceLoginResult is the result of a finished face login.
type FaceLoginResult struct {
	Status      string
	FailureCode string
	PersonID    string
}

// FaceLoginSummary is the zh-CN StaticSummary staff read in the Temporal UI.
const FaceLoginSummary = "人脸识别登录"

// Verification is the result of UpdateBeginFaceLogin.
type Verification = activities.Verification
