package identity

import (
	"strings"
	"unicode"
)

// NormalizeEnterpriseName returns the key under which two spellings of an
// enterprise name compare equal. The key is for comparison only and is not
// meant for display.
//
// The key folds full-width forms U+FF01-U+FF5E to ASCII, as NFKC does, so
// （） become () and full-width letters and digits become ASCII. It also
// maps 【】 to [], which NFKC leaves alone. It removes all whitespace,
// including U+3000 IDEOGRAPHIC SPACE, as well as U+200B ZERO WIDTH SPACE
// and U+FEFF BYTE ORDER MARK, and it uppercases Latin letters. Other
// characters, including invalid UTF-8 bytes, which become U+FFFD, are kept.
//
// So "广州市示例科技有限公司（番禺分公司）" and "广州市示例科技有限公司 (番禺分公司)"
// have the same key.
func NormalizeEnterpriseName(s string) string {
	var key strings.Builder
	key.Grow(len(s))

	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u200B' || r == '\uFEFF' {
			continue
		}

		r = foldFullWidth(r)
		switch r {
		case '【':
			r = '['
		case '】':
			r = ']'
		}
		if unicode.Is(unicode.Latin, r) {
			r = unicode.ToUpper(r)
		}
		key.WriteRune(r)
	}
	return key.String()
}
