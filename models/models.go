package models

import "time"

// Person is someone who passed face verification at least once. The ID
// number and name are sealed; IDHash finds the row by ID type and number.
type Person struct {
	ID             string `gorm:"primaryKey"`
	IDType         string
	IDHash         string
	IDNumberEnc    []byte
	IDNumberMasked string
	NameEnc        []byte
	NameMasked     string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Face verification statuses.
const (
	VerificationPending   = "pending"
	VerificationPassed    = "passed"
	VerificationFailed    = "failed"
	VerificationExpired   = "expired"
	VerificationCancelled = "cancelled"
)

// Verification purposes: which flow a verification belongs to.
const (
	PurposeFaceLogin            = "face_login"
	PurposeAgentInvitation      = "agent_invitation"
	PurposeCertificationRequest = "certification_request"
)

// FaceVerification is one face-verification attempt at the provider. Only
// the provider's reference (hashed), result code, similarity and liveness
// result are kept: never an image.
type FaceVerification struct {
	ID                string `gorm:"primaryKey"`
	Purpose           string
	WorkflowID        string
	Provider          string
	ProviderTokenHash string
	Status            string
	FailureCode       string
	Similarity        *float64
	LivenessPassed    *bool
	ExpiresAt         time.Time
	CompletedAt       *time.Time
	CreatedAt         time.Time
}

// Face login statuses.
const (
	LoginPending   = "pending"
	LoginSucceeded = "succeeded"
	LoginFailed    = "failed"
	LoginExpired   = "expired"
)

// FaceLogin is one face-recognition login. The client proves it started
// the login with the secret whose hash is stored here.
type FaceLogin struct {
	ID               string `gorm:"primaryKey"`
	VerificationID   string
	ClientSecretHash string
	IDHash           string
	Status           string
	FailureCode      string
	PersonID         *string
	SessionExpiresAt *time.Time
	ExpiresAt        time.Time
	CompletedAt      *time.Time
	CreatedAt        time.Time
}

// Session kinds.
const (
	SessionPerson     = "person"
	SessionEnterprise = "enterprise"
)

// Session is a bearer session; only the token's hash is stored.
type Session struct {
	ID                  string `gorm:"primaryKey"`
	TokenHash           string
	Kind                string
	PersonID            string
	EnterpriseAccountID *string
	// PasswordLogin is true for an enterprise session from 法人账号 password
	// login, which may not change credentials or start other sessions.
	PasswordLogin bool
	ExpiresAt     time.Time
	RevokedAt     *time.Time
	CreatedAt     time.Time
}

// Idempotency record states.
const (
	IdempotencyPending  = "pending"
	IdempotencyComplete = "complete"
)

// IdempotencyRecord remembers the first response to a POST carrying an
// Idempotency-Key. The response is sealed because it can hold secrets.
type IdempotencyRecord struct {
	ScopeHash   string `gorm:"primaryKey"`
	RequestHash string
	State       string
	StatusCode  int
	ResponseEnc []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// TableName implements gorm's Tabler; GORM would otherwise pluralise Person as "people".
func (Person) TableName() string { return "persons" }
