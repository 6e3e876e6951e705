package identity

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// allDocTypes lists every document type and one invalid type.
var allDocTypes = []DocType{
	ResidentID, ResidencePermit, ForeignPermanentResidence, HKMOTravelPermit, TWTravelPermit, "passport",
}

func FuzzNormalizeIDNumber(f *testing.F) {
	for _, seed := range []string{
		"440106199001011235",
		" 44010619900101123x ",
		"810000199503080419",
		"944840198005170122",
		"H12345678",
		"m0123456789",
		"12345678",
		"440106190002291235",
		"４40106199001011235",
		"",
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, s string) {
		for _, docType := range allDocTypes {
			got, err := NormalizeIDNumber(docType, s)
			if err != nil {
				checkIDNumberError(t, docType, err)
				continue
			}

			again, err := NormalizeIDNumber(docType, got)
			if err != nil {
				t.Fatalf("NormalizeIDNumber(%s, %q) rejects its own output: %v", docType, got, err)
			}
			if again != got {
				t.Fatalf("NormalizeIDNumber(%s, %q) = %q, want it unchanged", docType, got, again)
			}

			if len(got) == 18 {
				masked := MaskIDNumber(got)
				if strings.Contains(masked, got[4:14]) {
					t.Fatalf("MaskIDNumber(%q) = %q shows the middle 10 characters", got, masked)
				}
			}
		}
	})
}

// checkIDNumberError checks that a NormalizeIDNumber error wraps the right
// sentinel and contains no digits, so no part of a number can leak through it.
func checkIDNumberError(t *testing.T, docType DocType, err error) {
	t.Helper()

	want := ErrInvalidIDNumber
	if !docType.Valid() {
		want = ErrInvalidDocType
	}
	if !errors.Is(err, want) {
		t.Fatalf("NormalizeIDNumber(%s) error = %v, want %v", docType, err, want)
	}
	if strings.ContainsAny(err.Error(), "0123456789") {
		t.Fatalf("NormalizeIDNumber(%s) error %q contains digits", docType, err)
	}
}

func FuzzNormalizeUSCC(f *testing.F) {
	for _, seed := range []string{
		knownUSCC,
		"91440101ma59abcde7",
		" N2440106000000001X ",
		"91440106000000001I",
		"",
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeUSCC(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidUSCC) {
				t.Fatalf("NormalizeUSCC(%q) error = %v, want ErrInvalidUSCC", s, err)
			}
			return
		}

		if len(got) != 18 {
			t.Fatalf("NormalizeUSCC(%q) = %q, want 18 characters", s, got)
		}
		if strings.Trim(got, usccChars) != "" {
			t.Fatalf("NormalizeUSCC(%q) = %q, contains a character outside the set", s, got)
		}

		again, err := NormalizeUSCC(got)
		if err != nil {
			t.Fatalf("NormalizeUSCC(%q) rejects its own output: %v", got, err)
		}
		if again != got {
			t.Fatalf("NormalizeUSCC(%q) = %q, want it unchanged", got, again)
		}

		lower, err := NormalizeUSCC(strings.ToLower(got))
		if err != nil {
			t.Fatalf("NormalizeUSCC rejects lowercase %q: %v", got, err)
		}
		if lower != got {
			t.Fatalf("NormalizeUSCC(lowercase) = %q, want %q", lower, got)
		}
	})
}

func FuzzNormalizeName(f *testing.F) {
	for _, seed := range []string{
		"张三",
		" 艾力•买买提\u3000",
		"John   Smith",
		"ＪＯＨＮ",
		"张\xff",
		"··",
		"",
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeName(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("NormalizeName(%q) error = %v, want ErrInvalidName", s, err)
			}
			return
		}

		if !utf8.ValidString(got) {
			t.Fatalf("NormalizeName(%q) = %q, invalid UTF-8", s, got)
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > MaxNameRunes {
			t.Fatalf("NormalizeName(%q) = %q, %d runes", s, got, n)
		}
		if strings.ContainsAny(got, "\u2022\u30FB\u3000") {
			t.Fatalf("NormalizeName(%q) = %q, contains an unnormalised character", s, got)
		}
		if strings.Contains(got, "  ") || strings.TrimSpace(got) != got {
			t.Fatalf("NormalizeName(%q) = %q, has extra spaces", s, got)
		}

		again, err := NormalizeName(got)
		if err != nil {
			t.Fatalf("NormalizeName(%q) rejects its own output: %v", got, err)
		}
		if again != got {
			t.Fatalf("NormalizeName(%q) = %q, want it unchanged", got, again)
		}
	})
}

func FuzzMask(f *testing.F) {
	for _, seed := range []string{
		"440106199001011235",
		"H12345678",
		"艾力·买买提",
		"John Smith",
		"\xff\xfe",
		" ",
		"",
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, s string) {
		idRunes := []rune(strings.Trim(s, " "))
		maskedID := []rune(MaskIDNumber(s))
		if len(maskedID) != len(idRunes) {
			t.Fatalf("MaskIDNumber(%q) = %q, %d runes, want %d", s, string(maskedID), len(maskedID), len(idRunes))
		}
		// Check positions rather than substrings, because an input that already
		// contains '*' or repeats its kept characters can look like its own mask.
		if n := len(idRunes); n >= 18 {
			if string(maskedID[:4]) != string(idRunes[:4]) || string(maskedID[n-4:]) != string(idRunes[n-4:]) {
				t.Fatalf("MaskIDNumber(%q) = %q, want the first 4 and last 4 characters kept", s, string(maskedID))
			}
			if strings.Trim(string(maskedID[4:n-4]), "*") != "" {
				t.Fatalf("MaskIDNumber(%q) = %q shows a middle character", s, string(maskedID))
			}
		}
		if len(idRunes) >= 1 && len(idRunes) <= 3 && strings.Trim(string(maskedID), "*") != "" {
			t.Fatalf("MaskIDNumber(%q) = %q, want all masked", s, string(maskedID))
		}

		maskedName := MaskName(s)
		if utf8.RuneCountInString(maskedName) > utf8.RuneCountInString(s) {
			t.Fatalf("MaskName(%q) = %q is longer than the input", s, maskedName)
		}
		if name, err := NormalizeName(s); err == nil && utf8.RuneCountInString(name) > 1 && MaskName(name) == name {
			t.Fatalf("MaskName(%q) masks nothing", name)
		}

		key := NormalizeEnterpriseName(s)
		if again := NormalizeEnterpriseName(key); again != key {
			t.Fatalf("NormalizeEnterpriseName(%q) = %q, not stable: %q", s, key, again)
		}
	})
}
