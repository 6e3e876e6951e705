package api

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzCleanText(f *testing.F) {
	for _, seed := range []string{
		"登录后看不到企业",
		" 第一行\r\n第二行\r第三行 ",
		"a\u0000b",
		"\u202e反转",
		"\xff\xfe",
		strings.Repeat("长", maxFeedbackContent+1),
		"",
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}

	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		got, ok := cleanText(s, maxFeedbackContent, multiline)
		if !ok {
			if got != "" {
				t.Fatalf("cleanText(%q) rejected the text but returned %q", s, got)
			}
			return
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > maxFeedbackContent {
			t.Fatalf("cleanText(%q) = %q, %d characters", s, got, n)
		}
		if strings.TrimSpace(got) != got {
			t.Fatalf("cleanText(%q) = %q, not trimmed", s, got)
		}
		if strings.ContainsRune(got, '\r') {
			t.Fatalf("cleanText(%q) = %q, keeps a carriage return", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) && (r != '\n' || !multiline) {
				t.Fatalf("cleanText(%q, multiline %v) = %q, keeps control character %U", s, multiline, got, r)
			}
		}
		again, ok := cleanText(got, maxFeedbackContent, multiline)
		if !ok || again != got {
			t.Fatalf("cleanText(%q) = %q, then %q (%v): not stable", s, got, again, ok)
		}
	})
}

func FuzzMainlandMobile(f *testing.F) {
	for _, seed := range []string{"13800138000", "12800138000", "+8613800138000", "1380013800", "１３８００１３８０００", "13800138000\n", ""} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, s string) {
		if !mainlandMobile.MatchString(s) {
			return
		}
		if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
			t.Fatalf("mainlandMobile accepts %q", s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				t.Fatalf("mainlandMobile accepts %q with a non-digit", s)
			}
		}
	})
}

func FuzzValidIdempotencyKey(f *testing.F) {
	for _, seed := range []string{"login-1", "a b", "键", "\x7f", strings.Repeat("k", 255), strings.Repeat("k", 256)} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, key string) {
		if !validIdempotencyKey(key) {
			return
		}
		if len(key) > 255 {
			t.Fatalf("validIdempotencyKey accepts %d bytes", len(key))
		}
		for i := 0; i < len(key); i++ {
			if key[i] < 0x21 || key[i] > 0x7e {
				t.Fatalf("validIdempotencyKey accepts %q with byte %#x", key, key[i])
			}
		}
	})
}
