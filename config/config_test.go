package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/config"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoad_Defaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.TemporalAddress != "127.0.0.1:7233" || c.TemporalNamespace != "default" {
		t.Errorf("addresses = %s %s %s", c.HTTPAddr, c.TemporalAddress, c.TemporalNamespace)
	}
	if c.FaceVerificationTTL != 10*time.Minute || c.SessionTTL != 2*time.Hour || c.InvitationTTL != 168*time.Hour {
		t.Errorf("TTLs = %s %s %s", c.FaceVerificationTTL, c.SessionTTL, c.InvitationTTL)
	}
	if c.FaceLoginLimitPerID != (config.RateLimit{Count: 5, Window: 10 * time.Minute}) {
		t.Errorf("per-ID limit = %s, want 5/10m", c.FaceLoginLimitPerID)
	}
	if c.UsesPostgres() || !strings.HasSuffix(c.SQLitePath(), "yst.db") {
		t.Errorf("default database is not SQLite in the data directory")
	}
}

func TestLoad_RejectsBadValues(t *testing.T) {
	cases := map[string]string{
		"YST_SESSION_TTL":             "forever",
		"YST_FACE_LOGIN_LIMIT_PER_ID": "5",
		"YST_DEV_TEMPORAL_PORT":       "70000",
		"YST_HTTP_ADDR":               "nohost",
		"YST_DATABASE_URL":            "mysql://x",
		"YST_LOG_LEVEL":               "loud",
		"YST_FACE_PROVIDER":           "other",
		"YST_METRICS_ADDR":            "9090",
	}
	for name, value := range cases {
		_, err := config.Load(env(map[string]string{name: value}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: err = %v, want an error naming the variable", name, value, err)
		}
	}
}

func TestParseRateLimit_Off(t *testing.T) {
	r, err := config.ParseRateLimit("off")
	if err != nil || !r.Off() {
		t.Fatalf("off = %v, %v", r, err)
	}
}

func TestRequireSecrets_NamesMissingVariable(t *testing.T) {
	c, _ := config.Load(env(nil))
	err := c.RequireSecrets(config.NeedDataKey, config.NeedStaffToken)
	if err == nil || !strings.Contains(err.Error(), "YST_DATA_KEY") {
		t.Fatalf("err = %v, want one naming YST_DATA_KEY", err)
	}
	c.DataKey = "set"
	if err := c.RequireSecrets(config.NeedDataKey, config.NeedStaffToken); err == nil || !strings.Contains(err.Error(), "YST_STAFF_TOKEN") {
		t.Fatalf("err = %v, want one naming YST_STAFF_TOKEN", err)
	}
}

func TestVariables_CoverEveryVariable(t *testing.T) {
	names := map[string]bool{}
	for _, v := range config.Variables {
		names[v.Name] = true
	}
	for _, required := range []string{"YST_HTTP_ADDR", "YST_DATA_DIR", "YST_DATABASE_URL", "YST_TEMPORAL_ADDRESS", "YST_TEMPORAL_NAMESPACE",
		"YST_DEV_TEMPORAL_PORT", "YST_DEV_TEMPORAL_UI_PORT", "YST_REGISTRY_FILE", "YST_FACE_PROVIDER", "YST_FACE_CALLBACK_SECRET",
		"YST_STAFF_TOKEN", "YST_DATA_KEY", "YST_FACE_VERIFICATION_TTL", "YST_SESSION_TTL", "YST_INVITATION_TTL",
		"YST_CERTIFICATION_REQUEST_TTL", "YST_LINK_REQUEST_TTL", "YST_FACE_LOGIN_LIMIT_PER_ID", "YST_FACE_LOGIN_LIMIT_PER_IP"} {
		if !names[required] {
			t.Errorf("%s is not documented in config.Variables", required)
		}
	}
}
