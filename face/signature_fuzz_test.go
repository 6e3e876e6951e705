package face

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func FuzzVerifySignature(f *testing.F) {
	now := time.Unix(1_780_000_000, 0)
	secret := []byte("callback-secret-for-the-fuzz-target")
	body := []byte(`{"provider_token":"t","event":"verification.completed"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	for _, seed := range []struct {
		timestamp, signature string
		body                 []byte
	}{
		{ts, Sign(secret, ts, body), body},
		{ts, strings.ToUpper(Sign(secret, ts, body)), body},
		{strconv.FormatInt(now.Unix()-301, 10), Sign(secret, strconv.FormatInt(now.Unix()-301, 10), body), body},
		{"+" + ts, Sign(secret, "+"+ts, body), body},
		{"1e9", "", body},
		{"99999999999999999999", "zz", nil},
		{"-9223372036854775808", Sign(secret, "-9223372036854775808", nil), nil},
		{" " + ts, strings.Repeat("0", 64), body},
	} {
		f.Add(seed.timestamp, seed.signature, seed.body)
	}

	f.Fuzz(func(t *testing.T, timestamp, signature string, body []byte) {
		err := VerifySignature(secret, timestamp, signature, body, now)
		if err != nil {
			if err != ErrBadSignature {
				t.Fatalf("VerifySignature error = %v, want ErrBadSignature", err)
			}
		} else {
			if !strings.EqualFold(signature, Sign(secret, timestamp, body)) {
				t.Fatalf("VerifySignature accepts signature %q for timestamp %q", signature, timestamp)
			}
			sec, parseErr := strconv.ParseInt(timestamp, 10, 64)
			if parseErr != nil {
				t.Fatalf("VerifySignature accepts timestamp %q, which is not an integer", timestamp)
			}
			if skew := now.Sub(time.Unix(sec, 0)); skew > CallbackWindow || skew < -CallbackWindow {
				t.Fatalf("VerifySignature accepts timestamp %q, %s from now", timestamp, skew)
			}
		}

		// The provider's own signature over the same body verifies at any
		// time inside the window.
		fresh := strconv.FormatInt(now.Unix(), 10)
		if err := VerifySignature(secret, fresh, Sign(secret, fresh, body), body, now); err != nil {
			t.Fatalf("VerifySignature rejects a fresh valid signature: %v", err)
		}
	})
}
