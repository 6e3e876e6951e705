package identity

import "strings"

// usccChars is the GB 32100-2015 character set in value order: the digits
// and the uppercase letters except I, O, Z, S and V.
const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the GB 32100-2015 weights 3^(i-1) mod 31 for positions
// i = 1-17.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// NormalizeUSCC validates a unified social credit code (统一社会信用代码,
// GB 32100-2015) and returns its canonical form: surrounding ASCII spaces
// removed and letters uppercased.
//
// The code must be 18 characters from 0-9 and A-Z without I, O, Z, S and V,
// and lowercase letters are accepted. Position 1, the registration
// authority, must be 1-9, A-G, N or Y. Position 2, the organisation category,
// may be any character of the set. Positions 3-8, the region code, must be
// digits. Position 18 must equal the check character of positions 1-17.
//
// The check is on shape only. Some 18-digit resident ID numbers also pass it,
// so callers must decide from the field a value came in, not from its shape,
// whether it is a USCC. Errors wrap ErrInvalidUSCC.
func NormalizeUSCC(s string) (string, error) {
	s = strings.Trim(s, " ")
	if len(s) != 18 {
		return "", invalid(ErrInvalidUSCC, "wrong length")
	}

	code := []byte(s)
	values := make([]int, len(code))
	for i, c := range code {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
			code[i] = c
		}
		v := strings.IndexByte(usccChars, c)
		if v < 0 {
			return "", invalid(ErrInvalidUSCC, "character outside the USCC set")
		}
		values[i] = v
	}

	if !isUSCCAuthority(code[0]) {
		return "", invalid(ErrInvalidUSCC, "invalid registration authority code")
	}
	if !isDigits(string(code[2:8])) {
		return "", invalid(ErrInvalidUSCC, "non-digit region code")
	}

	sum := 0
	for i, weight := range usccWeights {
		sum += values[i] * weight
	}
	if values[17] != (31-sum%31)%31 {
		return "", invalid(ErrInvalidUSCC, "check character mismatch")
	}
	return string(code), nil
}

// isUSCCAuthority reports whether c is a registration authority code. The
// assigned codes are 1-9, A (military), N (agriculture, used by rural
// collective economic organisations) and Y (other). B-G are not assigned but
// accepted, so that a code assigned later is not rejected.
func isUSCCAuthority(c byte) bool {
	switch {
	case c >= '1' && c <= '9':
		return true
	case c >= 'A' && c <= 'G':
		return true
	}
	return c == 'N' || c == 'Y'
}
