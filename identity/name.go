package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameRunes is the maximum length of a canonical name in runes.
const MaxNameRunes = 64

// middleDot is the canonical separator in foreign and minority names, such
// as 艾力·买买提.
const middleDot = '\u00B7'

// NormalizeName validates a personal name and returns its canonical form.
//
// Surrounding whitespace, including U+3000 IDEOGRAPHIC SPACE, is removed. The
// result must be 1 to MaxNameRunes runes of Han letters, Latin letters and
// middle dots. Full-width Latin letters become ASCII letters. U+2022 BULLET
// and U+30FB KATAKANA MIDDLE DOT become U+00B7 MIDDLE DOT. A middle dot must
// stand between two other characters, and runs of ASCII spaces collapse to
// one space, which is allowed only between two Latin letters.
//
// Errors wrap ErrInvalidName. Digits, control characters, other whitespace,
// other punctuation and invalid UTF-8 are rejected.
//
// NOTE: Latin letters written with combining marks (NFD, as in "e" followed
// by U+0301) are rejected, because the standard library has no NFC
// normalisation to compose them. Hyphens and apostrophes are rejected too.
func NormalizeName(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(ErrInvalidName, "invalid UTF-8")
	}
	s = strings.TrimFunc(s, unicode.IsSpace)

	out := make([]rune, 0, len(s))
	spacePending := false
	for _, r := range s {
		if r == ' ' {
			spacePending = true
			continue
		}

		r = foldFullWidth(r)
		if isMiddleDot(r) {
			r = middleDot
		}
		if err := checkNameRune(r); err != nil {
			return "", err
		}

		if spacePending {
			if len(out) == 0 || !isLatinLetter(out[len(out)-1]) || !isLatinLetter(r) {
				return "", invalid(ErrInvalidName, "space outside Latin words")
			}
			out = append(out, ' ')
			spacePending = false
		}
		if r == middleDot && (len(out) == 0 || out[len(out)-1] == middleDot) {
			return "", invalid(ErrInvalidName, "leading or doubled middle dot")
		}

		out = append(out, r)
		if len(out) > MaxNameRunes {
			return "", invalid(ErrInvalidName, "too long")
		}
	}

	if len(out) == 0 {
		return "", invalid(ErrInvalidName, "empty")
	}
	if out[len(out)-1] == middleDot {
		return "", invalid(ErrInvalidName, "trailing middle dot")
	}
	return string(out), nil
}

// checkNameRune rejects a rune, already folded, that cannot appear in a name.
func checkNameRune(r rune) error {
	switch {
	case r == middleDot || isHanLetter(r) || isLatinLetter(r):
		return nil
	case unicode.IsControl(r):
		return invalid(ErrInvalidName, "control character")
	case unicode.IsSpace(r):
		return invalid(ErrInvalidName, "whitespace other than ASCII space")
	case unicode.IsNumber(r):
		return invalid(ErrInvalidName, "digit")
	}
	return invalid(ErrInvalidName, "character not allowed")
}

// isHanLetter reports whether r is a Han ideograph. Han-script symbols, such
// as the Kangxi radicals that look like ideographs, and Han numerals such as
// U+3007 are not letters and are excluded.
func isHanLetter(r rune) bool {
	return unicode.Is(unicode.Han, r) && unicode.IsLetter(r)
}

func isLatinLetter(r rune) bool {
	return unicode.Is(unicode.Latin, r) && unicode.IsLetter(r)
}

// isMiddleDot reports whether r is U+00B7 MIDDLE DOT or one of the
// look-alikes accepted in its place, U+2022 BULLET and U+30FB KATAKANA
// MIDDLE DOT.
func isMiddleDot(r rune) bool {
	return r == middleDot || r == '\u2022' || r == '\u30FB'
}

// foldFullWidth maps the full-width forms U+FF01-U+FF5E to ASCII U+0021-U+007E,
// as NFKC does, and returns any other rune unchanged.
func foldFullWidth(r rune) rune {
	if r >= '\uFF01' && r <= '\uFF5E' {
		return r - 0xFEE0
	}
	return r
}
