package models_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

var canonicalLoginName = regexp.MustCompile(`^[a-z0-9_.-]{4,32}$`)

func FuzzNormalizeLoginName(f *testing.F) {
	for _, seed := range []string{"gz-example", " GZ.Example_1 ", "abc", strings.Repeat("a", 33), "ｇｚｄｅｍｏ", "ıiıi", "gz\u0000demo", ""} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, s string) {
		got, err := models.NormalizeLoginName(s)
		if err != nil {
			if !errors.Is(err, models.ErrInvalidLoginName) {
				t.Fatalf("NormalizeLoginName(%q) error = %v, want ErrInvalidLoginName", s, err)
			}
			if len(s) >= 4 && strings.Contains(err.Error(), s) {
				t.Fatalf("NormalizeLoginName(%q) error %q quotes the input", s, err)
			}
			return
		}
		if !canonicalLoginName.MatchString(got) {
			t.Fatalf("NormalizeLoginName(%q) = %q, not canonical", s, got)
		}
		if again, err := models.NormalizeLoginName(got); err != nil || again != got {
			t.Fatalf("NormalizeLoginName(%q) = %q, then %q (%v): not stable", s, got, again, err)
		}
		if upper, err := models.NormalizeLoginName(strings.ToUpper(got)); err != nil || upper != got {
			t.Fatalf("NormalizeLoginName(uppercase %q) = %q (%v), want it case-insensitive", got, upper, err)
		}
	})
}

func FuzzCheckPassword(f *testing.F) {
	for _, seed := range []struct{ password, loginName string }{
		{"a long enough password", "gzdemo"},
		{"ｆｕｌｌ－ｗｉｄｔｈ　ｐａｓｓ", "gzdemo"},
		{"my-GZDEMO-password", "gzdemo"},
		{"aaaaaaaaaaaa", ""},
		{"short", ""},
		{"tab\there and there", ""},
		{strings.Repeat("长", 129), ""},
		{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6", ""},
	} {
		f.Add(seed.password, seed.loginName)
	}

	f.Fuzz(func(t *testing.T, password, loginName string) {
		err := models.CheckPassword(password, loginName)
		if err != nil {
			if !errors.Is(err, models.ErrWeakPassword) {
				t.Fatalf("CheckPassword error = %v, want ErrWeakPassword", err)
			}
			if len(password) >= 8 && strings.Contains(err.Error(), password) {
				t.Fatalf("CheckPassword error %q quotes the password", err)
			}
			return
		}
		normalized := secure.NormalizePassword(password)
		if n := utf8.RuneCountInString(normalized); n < models.MinPasswordRunes || n > models.MaxPasswordRunes {
			t.Fatalf("CheckPassword accepts %q with %d characters after normalisation", password, n)
		}
		if strings.IndexFunc(normalized, unicode.IsControl) >= 0 {
			t.Fatalf("CheckPassword accepts %q with a control character", password)
		}
		if loginName != "" && strings.Contains(strings.ToLower(normalized), loginName) {
			t.Fatalf("CheckPassword accepts %q, which contains the login name %q", password, loginName)
		}
	})
}
