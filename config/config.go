// Package config loads the service's configuration from YST_* environment
// variables into one typed struct, validated once at start-up.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of the yst binary. Every field comes from
// the environment variable named in its tag; Describe lists them with defaults.
type Config struct {
	HTTPAddr          string // YST_HTTP_ADDR
	PublicURL         string // YST_PUBLIC_URL
	DataDir           string // YST_DATA_DIR
	DatabaseURL       string // YST_DATABASE_URL
	TemporalAddress   string // YST_TEMPORAL_ADDRESS
	TemporalNamespace string // YST_TEMPORAL_NAMESPACE
	TaskQueue         string // YST_TASK_QUEUE
	DevTemporalPort   int    // YST_DEV_TEMPORAL_PORT
	DevTemporalUIPort int    // YST_DEV_TEMPORAL_UI_PORT
	TemporalCLI       string // YST_TEMPORAL_CLI
	RegistryFile      string // YST_REGISTRY_FILE
	FaceProvider      string // YST_FACE_PROVIDER
	LogLevel          string // YST_LOG_LEVEL
	LogFormat         string // YST_LOG_FORMAT
	MetricsAddr       string // YST_METRICS_ADDR

	FaceCallbackSecret string   // YST_FACE_CALLBACK_SECRET
	StaffToken         string   // YST_STAFF_TOKEN
	DataKey            string   // YST_DATA_KEY
	PreviousDataKeys   []string // YST_DATA_KEY_PREVIOUS

	FaceVerificationTTL     time.Duration // YST_FACE_VERIFICATION_TTL
	SessionTTL              time.Duration // YST_SESSION_TTL
	InvitationTTL           time.Duration // YST_INVITATION_TTL
	CertificationRequestTTL time.Duration // YST_CERTIFICATION_REQUEST_TTL
	LinkRequestTTL          time.Duration // YST_LINK_REQUEST_TTL

	FaceLoginLimitPerID RateLimit // YST_FACE_LOGIN_LIMIT_PER_ID
	FaceLoginLimitPerIP RateLimit // YST_FACE_LOGIN_LIMIT_PER_IP

	SupportContacts        []SupportContact // YST_SUPPORT_CONTACTS
	FeedbackLimitPerPerson RateLimit        // YST_FEEDBACK_LIMIT_PER_PERSON

	// DevUIOrigins is set only by yst dev: the addresses of the dev server's
	// UI, whose browser requests may use the codec endpoint without a token.
	DevUIOrigins []string
}

// RateLimit allows Count events per Window; Count 0 means the limit is off.
type RateLimit struct {
	Count  int
	Window time.Duration
}

// Off reports whether the limit is disabled.
func (r RateLimit) Off() bool { return r.Count == 0 }

func (r RateLimit) String() string {
	if r.Off() {
		return "off"
	}
	return fmt.Sprintf("%d/%s", r.Count, r.Window)
}

// ParseRateLimit reads "N/duration" (such as "5/10m") or "off".
func ParseRateLimit(s string) (RateLimit, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return RateLimit{}, nil
	}
	count, window, ok := strings.Cut(s, "/")
	if !ok {
		return RateLimit{}, fmt.Errorf("invalid rate limit %q: expected N/duration such as 5/10m, or off", s)
	}
	n, err := strconv.Atoi(count)
	if err != nil || n <= 0 {
		return RateLimit{}, fmt.Errorf("invalid rate limit %q: count must be a positive integer", s)
	}
	d, err := time.ParseDuration(window)
	if err != nil || d <= 0 {
		return RateLimit{}, fmt.Errorf("invalid rate limit %q: window must be a positive Go duration", s)
	}
	return RateLimit{Count: n, Window: d}, nil
}

// Variable documents one environment variable.
type Variable struct {
	Name, Default, Meaning string
	Secret                 bool
}

// Variables lists every variable Load reads, in the order of the README table.
var Variables = []Variable{
	{"YST_HTTP_ADDR", "127.0.0.1:8080", "API listen address", false},
	{"YST_PUBLIC_URL", "http://YST_HTTP_ADDR", "base URL of share links, the sandbox page and its callbacks", false},
	{"YST_DATA_DIR", ".data", "embedded database, dev Temporal database, generated dev keys", false},
	{"YST_DATABASE_URL", "SQLite in YST_DATA_DIR", "postgres://… selects PostgreSQL", false},
	{"YST_TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend", false},
	{"YST_TEMPORAL_NAMESPACE", "default", "Temporal namespace", false},
	{"YST_TASK_QUEUE", "yst-account-flows", "Temporal task queue of the worker", false},
	{"YST_DEV_TEMPORAL_PORT", "7233", "port of the dev server yst dev starts", false},
	{"YST_DEV_TEMPORAL_UI_PORT", "8233", "port of the dev server's UI", false},
	{"YST_TEMPORAL_CLI", "bin/temporal", "Temporal CLI binary yst dev runs", false},
	{"YST_REGISTRY_FILE", "registry/sample.csv", "enterprise registry CSV", false},
	{"YST_FACE_PROVIDER", "sandbox", "face-verification provider", false},
	{"YST_LOG_LEVEL", "info", "debug, info, warn or error", false},
	{"YST_LOG_FORMAT", "json", "json, or console for people", false},
	{"YST_METRICS_ADDR", "empty (off)", "listen address of the worker's /metrics and /healthz; the API serves /metrics on YST_HTTP_ADDR", false},
	{"YST_FACE_CALLBACK_SECRET", "generated in dev", "provider push signature key", true},
	{"YST_STAFF_TOKEN", "generated in dev, printed once", "staff endpoints and codec endpoint", true},
	{"YST_DATA_KEY", "generated in dev", "base64 of 32 bytes: at-rest and payload encryption", true},
	{"YST_DATA_KEY_PREVIOUS", "empty", "comma-separated earlier data keys, used only to decrypt", true},
	{"YST_FACE_VERIFICATION_TTL", "10m", "validity of a face verification", false},
	{"YST_SESSION_TTL", "2h", "validity of a session", false},
	{"YST_INVITATION_TTL", "168h", "validity of an agent invitation", false},
	{"YST_CERTIFICATION_REQUEST_TTL", "168h", "validity of a certification request", false},
	{"YST_LINK_REQUEST_TTL", "168h", "validity of an account link request", false},
	{"YST_FACE_LOGIN_LIMIT_PER_ID", "5/10m", "face-login starts per ID number, or off", false},
	{"YST_FACE_LOGIN_LIMIT_PER_IP", "60/1m", "face-login starts per client IP, or off", false},
	{"YST_SUPPORT_CONTACTS", DefaultSupportContacts, "hotline numbers shown to users: comma-separated number=label", false},
	{"YST_FEEDBACK_LIMIT_PER_PERSON", "10/1h", "feedback a person may send, or off", false},
}

// Load reads the configuration through getenv (os.Getenv in production,
// a map in tests). It checks formats but not the presence of secrets:
// RequireSecrets does that for the commands that need them.
func Load(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	duration := func(name, def string) time.Duration {
		raw := get(name, def)
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: invalid duration %q, expected a positive Go duration such as 10m", name, raw))
		}
		return d
	}
	port := func(name, def string) int {
		raw := get(name, def)
		p, err := strconv.Atoi(raw)
		if err != nil || p <= 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("%s: invalid port %q", name, raw))
		}
		return p
	}
	limit := func(name, def string) RateLimit {
		r, err := ParseRateLimit(get(name, def))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return r
	}

	c := Config{
		HTTPAddr:           get("YST_HTTP_ADDR", "127.0.0.1:8080"),
		DataDir:            get("YST_DATA_DIR", ".data"),
		DatabaseURL:        get("YST_DATABASE_URL", ""),
		TemporalAddress:    get("YST_TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace:  get("YST_TEMPORAL_NAMESPACE", "default"),
		TaskQueue:          get("YST_TASK_QUEUE", "yst-account-flows"),
		TemporalCLI:        get("YST_TEMPORAL_CLI", filepath.Join("bin", "temporal")),
		RegistryFile:       get("YST_REGISTRY_FILE", filepath.Join("registry", "sample.csv")),
		FaceProvider:       get("YST_FACE_PROVIDER", "sandbox"),
		LogLevel:           get("YST_LOG_LEVEL", "info"),
		LogFormat:          get("YST_LOG_FORMAT", "json"),
		MetricsAddr:        get("YST_METRICS_ADDR", ""),
		FaceCallbackSecret: getenv("YST_FACE_CALLBACK_SECRET"),
		StaffToken:         getenv("YST_STAFF_TOKEN"),
		DataKey:            getenv("YST_DATA_KEY"),

		DevTemporalPort:   port("YST_DEV_TEMPORAL_PORT", "7233"),
		DevTemporalUIPort: port("YST_DEV_TEMPORAL_UI_PORT", "8233"),

		FaceVerificationTTL:     duration("YST_FACE_VERIFICATION_TTL", "10m"),
		SessionTTL:              duration("YST_SESSION_TTL", "2h"),
		InvitationTTL:           duration("YST_INVITATION_TTL", "168h"),
		CertificationRequestTTL: duration("YST_CERTIFICATION_REQUEST_TTL", "168h"),
		LinkRequestTTL:          duration("YST_LINK_REQUEST_TTL", "168h"),

		FaceLoginLimitPerID: limit("YST_FACE_LOGIN_LIMIT_PER_ID", "5/10m"),
		FaceLoginLimitPerIP: limit("YST_FACE_LOGIN_LIMIT_PER_IP", "60/1m"),

		FeedbackLimitPerPerson: limit("YST_FEEDBACK_LIMIT_PER_PERSON", "10/1h"),
	}
	contacts, err := ParseSupportContacts(get("YST_SUPPORT_CONTACTS", DefaultSupportContacts))
	if err != nil {
		errs = append(errs, fmt.Errorf("YST_SUPPORT_CONTACTS: %w", err))
	}
	c.SupportContacts = contacts
	for _, key := range strings.Split(getenv("YST_DATA_KEY_PREVIOUS"), ",") {
		if key = strings.TrimSpace(key); key != "" {
			c.PreviousDataKeys = append(c.PreviousDataKeys, key)
		}
	}
	c.PublicURL = strings.TrimRight(get("YST_PUBLIC_URL", "http://"+c.HTTPAddr), "/")

	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("YST_HTTP_ADDR: invalid address %q, expected host:port", c.HTTPAddr))
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); c.MetricsAddr != "" && err != nil {
		errs = append(errs, fmt.Errorf("YST_METRICS_ADDR: invalid address %q, expected host:port or empty", c.MetricsAddr))
	}
	if c.FaceProvider != "sandbox" {
		errs = append(errs, fmt.Errorf("YST_FACE_PROVIDER: unknown provider %q; this build ships only sandbox", c.FaceProvider))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("YST_LOG_LEVEL: invalid level %q, expected debug, info, warn or error", c.LogLevel))
	}
	if c.DatabaseURL != "" && !c.UsesPostgres() && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		errs = append(errs, errors.New("YST_DATABASE_URL: expected postgres://… or sqlite:PATH"))
	}
	return c, errors.Join(errs...)
}

// FromEnvironment loads the configuration from the process environment.
func FromEnvironment() (Config, error) { return Load(os.Getenv) }

// UsesPostgres reports whether the database URL selects PostgreSQL.
func (c Config) UsesPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// SQLitePath is the embedded database file used when no PostgreSQL URL is set.
func (c Config) SQLitePath() string {
	if path, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok {
		return path
	}
	return filepath.Join(c.DataDir, "yst.db")
}

// Secret names a secret and the role that needs it.
type Secret int

// The secrets RequireSecrets can check.
const (
	NeedDataKey Secret = iota
	NeedStaffToken
	NeedCallbackSecret
)

// RequireSecrets returns an error naming the first missing or malformed
// secret among those listed, so that yst api and yst worker refuse to start
// without them.
func (c Config) RequireSecrets(needs ...Secret) error {
	for _, need := range needs {
		switch need {
		case NeedDataKey:
			if c.DataKey == "" {
				return errors.New("YST_DATA_KEY is missing: set it to base64 of 32 random bytes (openssl rand -base64 32)")
			}
		case NeedStaffToken:
			if len(c.StaffToken) < 32 {
				return errors.New("YST_STAFF_TOKEN is missing or shorter than 32 characters")
			}
		case NeedCallbackSecret:
			if len(c.FaceCallbackSecret) < 32 {
				return errors.New("YST_FACE_CALLBACK_SECRET is missing or shorter than 32 characters")
			}
		}
	}
	return nil
}
