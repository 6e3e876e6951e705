// Package face defines how the service talks to a face-verification
// provider (人脸核验) such as 粤信签, and the signature of provider callbacks.
//
// A production provider plugs in by implementing Provider:
//   - CreateSession registers a verification of an expected identity and
//     returns the token and launch URL the app opens the mini program with.
//     It must be idempotent on the verification id, because activities retry.
//   - Result pulls the provider's current result for a token. The service
//     never trusts a result sent by the client, only what Result returns.
//   - When the user finishes, the provider may push a signed callback (see
//     Sign); the service then calls Result again rather than reading the body.
package face

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Identity is the name and identity document a verification expects, or
// the one the provider verified.
type Identity struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

// Session is a verification registered at the provider.
type Session struct {
	ProviderToken string    `json:"provider_token"`
	LaunchURL     string    `json:"launch_url"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// State of a verification at the provider.
type State string

// The states Result can return.
const (
	StatePending   State = "pending"
	StatePassed    State = "passed"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
	StateExpired   State = "expired"
)

// Failure codes shared by every provider adapter.
const (
	FailureLiveness         = "LIVENESS_FAILED"
	FailureSimilarity       = "SIMILARITY_TOO_LOW"
	FailureIdentityMismatch = "IDENTITY_MISMATCH"
	FailureUserCancelled    = "USER_CANCELLED"
	FailureExpired          = "EXPIRED"
)

// Result is the provider's verdict. Verified is the identity the provider
// matched the face against; it is set only when State is StatePassed.
type Result struct {
	State          State    `json:"state"`
	FailureCode    string   `json:"failure_code,omitempty"`
	Similarity     *float64 `json:"similarity,omitempty"`
	LivenessPassed *bool    `json:"liveness_passed,omitempty"`
	Verified       Identity `json:"verified"`
}

// Request is a request to a provider to verify a face against Expected.
type Request struct {
	VerificationID string
	Expected       Identity
	ExpiresAt      time.Time
	CallbackURL    string
}

// Provider is a face-verification service.
type Provider interface {
	// Name identifies the provider in stored rows, such as "sandbox".
	Name() string
	// CreateSession registers the verification. Calling it again with the
	// same VerificationID returns the same session.
	CreateSession(ctx context.Context, req Request) (Session, error)
	// Result returns the verdict for a token. It returns ErrUnknownToken
	// when the provider has no such verification.
	Result(ctx context.Context, providerToken string) (Result, error)
}

// ErrUnknownToken is returned by Result for a token the provider never issued.
var ErrUnknownToken = errors.New("face: unknown provider token")

// Callback headers and the accepted clock skew.
const (
	HeaderTimestamp = "X-Yst-Timestamp"
	HeaderSignature = "X-Yst-Signature"
	CallbackWindow  = 300 * time.Second
)

// CallbackBody is the body a provider pushes when a verification finishes.
type CallbackBody struct {
	ProviderToken string `json:"provider_token"`
	Event         string `json:"event"`
}

// Sign returns the hex HMAC-SHA256 over timestamp + "." + body.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature covers a missing or wrong signature and a stale timestamp.
var ErrBadSignature = errors.New("face: invalid callback signature")

// VerifySignature checks a pushed callback: the signature must match and
// the Unix timestamp must be within CallbackWindow of now.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	skew := now.Sub(time.Unix(sec, 0))
	if skew > CallbackWindow || skew < -CallbackWindow {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(signature)
	if err != nil {
		return ErrBadSignature
	}
	want, _ := hex.DecodeString(Sign(secret, timestamp, body))
	if !hmac.Equal(got, want) {
		return ErrBadSignature
	}
	return nil
}
