// Package sandbox is an in-process stand-in for the 粤信签 mini program, for
// development, demos and tests. It keeps its sessions in its own table of the
// service's database, so the API (which serves its page) and the worker (which
// pulls results) can run as separate processes.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/secure"
)

// Session is the sandbox's row for one verification.
type Session struct {
	TokenHash       string `gorm:"primaryKey"`
	VerificationID  string
	ExpectedNameEnc []byte
	ExpectedIDEnc   []byte
	NameMasked      string
	IDNumberMasked  string
	CallbackURL     string
	Outcome         string
	VerifiedNameEnc []byte
	VerifiedIDEnc   []byte
	DecidedAt       *time.Time
	ExpiresAt       time.Time
	CreatedAt       time.Time
}

// TableName keeps the sandbox's table apart from the product's.
func (Session) TableName() string { return "sandbox_face_sessions" }

// Outcomes a tester can choose on the page.
const (
	OutcomePass   = "pass"
	OutcomeFail   = "fail"
	OutcomeCancel = "cancel"
)

// Errors of Decide.
var (
	ErrNotFound       = errors.New("sandbox: no such verification")
	ErrAlreadyDecided = errors.New("sandbox: verification already decided")
	ErrExpired        = errors.New("sandbox: verification expired")
)

// Provider is the sandbox face.Provider.
type Provider struct {
	db             *gorm.DB
	keys           *secure.Keyring
	publicURL      string
	callbackSecret []byte
	client         *http.Client
	log            *zap.Logger
	now            func() time.Time
}

var _ face.Provider = (*Provider)(nil)

// New returns the sandbox provider. publicURL is where the API serves the
// sandbox page; callbackSecret signs the pushes.
func New(db *gorm.DB, keys *secure.Keyring, publicURL string, callbackSecret []byte, log *zap.Logger) *Provider {
	return &Provider{
		db:             db,
		keys:           keys,
		publicURL:      publicURL,
		callbackSecret: callbackSecret,
		client:         &http.Client{Timeout: 5 * time.Second, Transport: newPushTransport()},
		log:            log.With(zap.String("component", "sandbox_face")),
		now:            func() time.Time { return time.Now().UTC() },
	}
}

// newPushTransport keeps up to 64 idle connections to the callback host.
// Go's default keeps two, so concurrent pushes would otherwise open a new
// TCP connection for most callbacks.
func newPushTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// Name implements face.Provider.
func (p *Provider) Name() string { return "sandbox" }

const (
	adName = "sandbox.name"
	adID   = "sandbox.id_number"
)

// CreateSession implements face.Provider. The token is derived from the
// verification id, so a retried call returns the same session.
func (p *Provider) CreateSession(ctx context.Context, req face.Request) (face.Session, error) {
	token := p.keys.DeriveToken("sandbox-face", req.VerificationID)
	row := Session{
		TokenHash:       secure.HashToken(token),
		VerificationID:  req.VerificationID,
		ExpectedNameEnc: p.keys.Seal([]byte(req.Expected.Name), adName),
		ExpectedIDEnc:   p.keys.Seal([]byte(req.Expected.IDType+":"+req.Expected.IDNumber), adID),
		NameMasked:      identity.MaskName(req.Expected.Name),
		IDNumberMasked:  identity.MaskIDNumber(req.Expected.IDNumber),
		CallbackURL:     req.CallbackURL,
		ExpiresAt:       req.ExpiresAt.UTC(),
		CreatedAt:       p.now(),
	}
	if err := p.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return face.Session{}, fmt.Errorf("unable to store sandbox session: %w", err)
	}
	return face.Session{
		ProviderToken: token,
		LaunchURL:     p.publicURL + "/sandbox/face/" + token,
		ExpiresAt:     req.ExpiresAt.UTC(),
	}, nil
}

func (p *Provider) session(ctx context.Context, token string) (Session, error) {
	var row Session
	err := p.db.WithContext(ctx).Where("token_hash = ?", secure.HashToken(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Session{}, ErrNotFound
	}
	return row, err
}

// Result implements face.Provider.
func (p *Provider) Result(ctx context.Context, token string) (face.Result, error) {
	row, err := p.session(ctx, token)
	if errors.Is(err, ErrNotFound) {
		return face.Result{}, face.ErrUnknownToken
	}
	if err != nil {
		return face.Result{}, err
	}
	switch row.Outcome {
	case OutcomePass:
		verified, err := p.verified(row)
		if err != nil {
			return face.Result{}, err
		}
		similarity, liveness := 0.97, true
		return face.Result{State: face.StatePassed, Similarity: &similarity, LivenessPassed: &liveness, Verified: verified}, nil
	case OutcomeFail:
		similarity, liveness := 0.31, true
		return face.Result{State: face.StateFailed, FailureCode: face.FailureSimilarity, Similarity: &similarity, LivenessPassed: &liveness}, nil
	case OutcomeCancel:
		return face.Result{State: face.StateCancelled, FailureCode: face.FailureUserCancelled}, nil
	}
	if !p.now().Before(row.ExpiresAt) {
		return face.Result{State: face.StateExpired, FailureCode: face.FailureExpired}, nil
	}
	return face.Result{State: face.StatePending}, nil
}

func (p *Provider) verified(row Session) (face.Identity, error) {
	nameEnc, idEnc := row.ExpectedNameEnc, row.ExpectedIDEnc
	if row.VerifiedNameEnc != nil {
		nameEnc = row.VerifiedNameEnc
	}
	if row.VerifiedIDEnc != nil {
		idEnc = row.VerifiedIDEnc
	}
	name, err := p.keys.Open(nameEnc, adName)
	if err != nil {
		return face.Identity{}, err
	}
	doc, err := p.keys.Open(idEnc, adID)
	if err != nil {
		return face.Identity{}, err
	}
	idType, idNumber, _ := bytes.Cut(doc, []byte(":"))
	return face.Identity{IDType: string(idType), IDNumber: string(idNumber), Name: string(name)}, nil
}

// PageView is the data of the sandbox page: the masked expected identity.
type PageView struct {
	NameMasked     string
	IDNumberMasked string
	Outcome        string
	ExpiresAt      time.Time
}

// View returns the page data for a token.
func (p *Provider) View(ctx context.Context, token string) (PageView, error) {
	row, err := p.session(ctx, token)
	if err != nil {
		return PageView{}, err
	}
	return PageView{NameMasked: row.NameMasked, IDNumberMasked: row.IDNumberMasked, Outcome: row.Outcome, ExpiresAt: row.ExpiresAt}, nil
}

// Decision is a tester's choice on the page. VerifiedName and
// VerifiedIDNumber, when set, play someone other than the expected person.
type Decision struct {
	Outcome          string
	VerifiedName     string
	VerifiedIDNumber string
}

// Decide records the outcome once and then pushes a signed callback in the
// background, as a provider with push would.
func (p *Provider) Decide(ctx context.Context, token string, d Decision) error {
	row, err := p.session(ctx, token)
	if err != nil {
		return err
	}
	if row.Outcome != "" {
		return ErrAlreadyDecided
	}
	if !p.now().Before(row.ExpiresAt) {
		return ErrExpired
	}
	updates := map[string]any{"outcome": d.Outcome, "decided_at": p.now()}
	if d.VerifiedName != "" {
		updates["verified_name_enc"] = p.keys.Seal([]byte(d.VerifiedName), adName)
	}
	if d.VerifiedIDNumber != "" {
		expected, err := p.keys.Open(row.ExpectedIDEnc, adID)
		if err != nil {
			return err
		}
		idType, _, _ := bytes.Cut(expected, []byte(":"))
		updates["verified_id_enc"] = p.keys.Seal([]byte(string(idType)+":"+d.VerifiedIDNumber), adID)
	}
	res := p.db.WithContext(ctx).Model(&Session{}).Where("token_hash = ? AND outcome = ''", row.TokenHash).Updates(updates)
	if res.Error != nil {
		return fmt.Errorf("unable to record sandbox outcome: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrAlreadyDecided
	}
	go p.push(row.CallbackURL, token, row.VerificationID)
	return nil
}

// push delivers the signed callback, retrying a few times on failure.
func (p *Provider) push(url, token, verificationID string) {
	if url == "" {
		return
	}
	body := []byte(`{"provider_token":"` + token + `","event":"verification.completed"}`)
	for attempt := 1; attempt <= 5; attempt++ {
		ts := strconv.FormatInt(p.now().Unix(), 10)
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			p.log.Error("unable to build sandbox callback", zap.Error(err))
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(face.HeaderTimestamp, ts)
		req.Header.Set(face.HeaderSignature, face.Sign(p.callbackSecret, ts, body))
		resp, err := p.client.Do(req)
		if err == nil {
			// Reading the body to its end lets the transport reuse the connection.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		p.log.Warn("sandbox callback failed, retrying", zap.String("verification_id", verificationID), zap.Int("attempt", attempt), zap.Error(err))
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
}
