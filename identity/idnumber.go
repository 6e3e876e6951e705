package identity

import (
	"strings"
	"time"
)

// now returns the current time. Tests replace it to pin "today" for the
// future birth date check.
var now = time.Now

// chinaStandardTime is UTC+8 without daylight saving time, which China has
// not observed since 1991. "Today" for birth date checks is the date there.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// minBirthYear is the earliest birth year accepted in an 18-character number.
const minBirthYear = 1900

// NormalizeIDNumber validates s as the number of a document of type t and
// returns its canonical form: surrounding ASCII spaces (U+0020 only) removed
// and letters uppercased. The rest of s must match the format as a whole, so
// inner spaces, other whitespace, full-width digits and trailing characters
// are rejected.
//
// Errors wrap ErrInvalidIDNumber, or ErrInvalidDocType when t is not valid.
func NormalizeIDNumber(t DocType, s string) (string, error) {
	s = strings.Trim(s, " ")

	switch t {
	case ResidentID:
		return normalizeResidentID(s)
	case ResidencePermit:
		return normalizeResidencePermit(s)
	case ForeignPermanentResidence:
		return normalizeForeignPermanentResidence(s)
	case HKMOTravelPermit:
		return normalizeHKMOTravelPermit(s)
	case TWTravelPermit:
		return normalizeTWTravelPermit(s)
	}
	return "", invalid(ErrInvalidDocType, "unknown document type")
}

// normalizeResidentID checks the resident ID layout: a 6-digit region code
// whose first digit is 1-9, a YYYYMMDD birth date, a 3-digit sequence number and an
// ISO 7064 MOD 11-2 check character.
func normalizeResidentID(s string) (string, error) {
	s, err := normalizeChecked18(s)
	if err != nil {
		return "", err
	}

	if s[0] == '0' {
		return "", invalid(ErrInvalidIDNumber, "invalid region code")
	}
	if err := checkBirthDate(s[6:14]); err != nil {
		return "", err
	}
	return s, nil
}

// residencePermitRegions are the region codes of residence permits for
// residents of Hong Kong, Macao and Taiwan.
var residencePermitRegions = map[string]bool{
	"810000": true, // Hong Kong
	"820000": true, // Macao
	"830000": true, // Taiwan
}

// normalizeResidencePermit checks the resident ID layout with one of the
// region codes in residencePermitRegions.
func normalizeResidencePermit(s string) (string, error) {
	s, err := normalizeChecked18(s)
	if err != nil {
		return "", err
	}

	if !residencePermitRegions[s[0:6]] {
		return "", invalid(ErrInvalidIDNumber, "invalid region code for residence_permit")
	}
	if err := checkBirthDate(s[6:14]); err != nil {
		return "", err
	}
	return s, nil
}

// normalizeForeignPermanentResidence checks the 2023 layout of the foreign
// permanent resident ID card: '9', a 2-digit province code, a 3-digit numeric
// nationality code, a YYYYMMDD birth date, a 3-digit sequence number and an
// ISO 7064 MOD 11-2 check character.
func normalizeForeignPermanentResidence(s string) (string, error) {
	s, err := normalizeChecked18(s)
	if err != nil {
		return "", err
	}

	if s[0] != '9' {
		return "", invalid(ErrInvalidIDNumber, "invalid first character for foreign_permanent_residence")
	}
	// NOTE: the province code is only checked to be non-zero, not against the
	// list of provinces, and the nationality code is not checked against
	// ISO 3166-1.
	if s[1:3] == "00" {
		return "", invalid(ErrInvalidIDNumber, "invalid province code")
	}
	if err := checkBirthDate(s[6:14]); err != nil {
		return "", err
	}
	return s, nil
}

// normalizeHKMOTravelPermit accepts 'H' (Hong Kong) or 'M' (Macao), in either
// case, followed by 8 digits, or by 10 digits on older cards.
func normalizeHKMOTravelPermit(s string) (string, error) {
	if len(s) != 9 && len(s) != 11 {
		return "", invalid(ErrInvalidIDNumber, "wrong length for hkmo_travel_permit")
	}

	letter := s[0]
	switch letter {
	case 'H', 'M':
	case 'h', 'm':
		letter -= 'a' - 'A'
	default:
		return "", invalid(ErrInvalidIDNumber, "hkmo_travel_permit must start with H or M")
	}
	if !isDigits(s[1:]) {
		return "", invalid(ErrInvalidIDNumber, "non-digit character")
	}
	return string(letter) + s[1:], nil
}

// normalizeTWTravelPermit accepts 8 digits, or 10 digits on older cards.
func normalizeTWTravelPermit(s string) (string, error) {
	if len(s) != 8 && len(s) != 10 {
		return "", invalid(ErrInvalidIDNumber, "wrong length for tw_travel_permit")
	}
	if !isDigits(s) {
		return "", invalid(ErrInvalidIDNumber, "non-digit character")
	}
	return s, nil
}

// normalizeChecked18 checks that s is 17 ASCII digits followed by a valid
// ISO 7064 MOD 11-2 check character, and uppercases a final 'x'.
func normalizeChecked18(s string) (string, error) {
	if len(s) != 18 {
		return "", invalid(ErrInvalidIDNumber, "wrong length")
	}
	if !isDigits(s[:17]) {
		return "", invalid(ErrInvalidIDNumber, "non-digit character")
	}

	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	if last != mod11CheckChar(s[:17]) {
		return "", invalid(ErrInvalidIDNumber, "check character mismatch")
	}
	return s[:17] + string(last), nil
}

// mod11Weights are the ISO 7064 MOD 11-2 weights 2^(18-i) mod 11 for
// positions i = 1-17.
var mod11Weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// mod11CheckChars maps the weighted sum mod 11 to the check character.
const mod11CheckChars = "10X98765432"

// mod11CheckChar returns the ISO 7064 MOD 11-2 check character of 17 ASCII
// digits. The caller must have checked the digits.
func mod11CheckChar(digits string) byte {
	sum := 0
	for i, weight := range mod11Weights {
		sum += int(digits[i]-'0') * weight
	}
	return mod11CheckChars[sum%11]
}

// checkBirthDate checks that yyyymmdd, 8 ASCII digits, is a real calendar
// date from minBirthYear up to today in China Standard Time.
func checkBirthDate(yyyymmdd string) error {
	year := atoi(yyyymmdd[0:4])
	month := atoi(yyyymmdd[4:6])
	day := atoi(yyyymmdd[6:8])

	if year < minBirthYear || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return invalid(ErrInvalidIDNumber, "invalid birth date")
	}

	today := now().In(chinaStandardTime)
	birth := time.Date(year, time.Month(month), day, 0, 0, 0, 0, chinaStandardTime)
	todayStart := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, chinaStandardTime)
	if birth.After(todayStart) {
		return invalid(ErrInvalidIDNumber, "birth date in the future")
	}
	return nil
}

// daysIn returns the number of days in month of the Gregorian year.
func daysIn(year, month int) int {
	// Day 0 of the next month normalises to the last day of month.
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// isDigits reports whether s is non-empty and contains only ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi converts ASCII digits that the caller has checked to an int.
func atoi(digits string) int {
	n := 0
	for i := 0; i < len(digits); i++ {
		n = n*10 + int(digits[i]-'0')
	}
	return n
}
