package identity

import (
	"strings"
	"unicode"
)

// MaskIDNumber returns s with most characters replaced by '*', for display
// and logs. Surrounding ASCII spaces are removed first.
//
// A number of 18 or more characters keeps its first 4 and last 4 characters,
// so "440106199001011235" becomes "4401**********1235". A number of 4 to 17
// characters keeps its first character and last 2. Anything shorter is
// masked completely. s need not be valid, and invalid UTF-8 bytes count as
// one character each and are output as U+FFFD.
func MaskIDNumber(s string) string {
	runes := []rune(strings.Trim(s, " "))

	switch n := len(runes); {
	case n >= 18:
		return maskMiddle(runes, 4, 4)
	case n >= 4:
		return maskMiddle(runes, 1, 2)
	}
	return strings.Repeat("*", len(runes))
}

// maskMiddle keeps the first head and the last tail runes and replaces the
// others with '*'. The caller guarantees head+tail <= len(runes).
func maskMiddle(runes []rune, head, tail int) string {
	masked := make([]rune, len(runes))
	for i, r := range runes {
		if i < head || i >= len(runes)-tail {
			masked[i] = r
		} else {
			masked[i] = '*'
		}
	}
	return string(masked)
}

// MaskName returns a personal name with most runes replaced by '*', for
// display and logs. Surrounding whitespace is removed first.
//
// A name of 1 rune becomes "*". A name of 2 or 3 runes keeps its first rune
// (张* and 张**), and a longer name keeps its first 2 runes (欧阳**). A name
// that contains a middle dot or a Latin letter keeps its first rune, its
// middle dots and its spaces, and masks every other rune, so "艾力·买买提"
// becomes "艾*·***". s need not be valid.
func MaskName(s string) string {
	runes := []rune(strings.TrimFunc(s, unicode.IsSpace))

	switch n := len(runes); {
	case n == 0:
		return ""
	case n == 1:
		return "*"
	case containsDotOrLatin(runes):
		return maskWords(runes)
	case n <= 3:
		return maskMiddle(runes, 1, 0)
	}
	return maskMiddle(runes, 2, 0)
}

func containsDotOrLatin(runes []rune) bool {
	for _, r := range runes {
		if isMiddleDot(r) || isLatinLetter(r) {
			return true
		}
	}
	return false
}

// maskWords keeps the first rune, middle dots and spaces, and masks the rest.
func maskWords(runes []rune) string {
	masked := make([]rune, len(runes))
	for i, r := range runes {
		if i == 0 || isMiddleDot(r) || r == ' ' {
			masked[i] = r
		} else {
			masked[i] = '*'
		}
	}
	return string(masked)
}
