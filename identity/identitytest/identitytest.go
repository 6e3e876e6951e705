// Package identitytest builds synthetic identity document numbers and unified
// social credit codes with valid check characters, for tests.
//
// The values are generated, not taken from any person or enterprise. A
// generated value is valid by construction, so it can still coincide with a
// number that has been issued. Use these values only in tests.
//
// The package does not import package identity, so its check character code
// is an independent implementation that tests of identity can compare against.
// The functions panic on arguments that cannot produce a valid value, because
// they are called with constants from tests.
package identitytest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// ResidentID returns an 18-character resident ID number (居民身份证号码) with
// the 6-digit region code, the birth date, the sequence number 0-999 and a
// valid check character. It panics if region is not 6 digits or seq is out
// of range. It does not check that the region code exists.
func ResidentID(region string, birth time.Time, seq int) string {
	if len(region) != 6 || !isDigits(region) {
		panic(fmt.Sprintf("identitytest: region %q is not 6 digits", region))
	}
	return withCheckChar(region + birthDate(birth) + sequence(seq))
}

// RandomResidentID returns a random resident ID number with a region code
// 440000-440999 (Guangdong), a birth date from 1950-01-01 to 2005-12-31 and a
// valid check character.
func RandomResidentID(r *rand.Rand) string {
	region := fmt.Sprintf("440%03d", r.IntN(1000))

	first := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(2005, 12, 31, 0, 0, 0, 0, time.UTC)
	days := int(last.Sub(first).Hours()/24) + 1
	birth := first.AddDate(0, 0, r.IntN(days))

	return ResidentID(region, birth, r.IntN(1000))
}

// ResidencePermit returns an 18-character number of a residence permit for
// residents of Hong Kong, Macao and Taiwan (港澳台居民居住证). It panics
// unless region is "810000" (Hong Kong), "820000" (Macao) or "830000"
// (Taiwan), or if seq is outside 0-999.
func ResidencePermit(region string, birth time.Time, seq int) string {
	switch region {
	case "810000", "820000", "830000":
	default:
		panic(fmt.Sprintf("identitytest: region %q is not 810000, 820000 or 830000", region))
	}
	return ResidentID(region, birth, seq)
}

// ForeignPermanentResidence returns an 18-character number in the 2023 format
// of the foreign permanent resident ID card (外国人永久居留身份证): '9', the
// 2-digit province code, the 3-digit numeric nationality code, the birth date,
// the sequence number 0-999 and a valid check character. It panics if province
// is not 2 digits, nationality is not 3 digits or seq is out of range.
func ForeignPermanentResidence(province, nationality string, birth time.Time, seq int) string {
	if len(province) != 2 || !isDigits(province) {
		panic(fmt.Sprintf("identitytest: province %q is not 2 digits", province))
	}
	if len(nationality) != 3 || !isDigits(nationality) {
		panic(fmt.Sprintf("identitytest: nationality %q is not 3 digits", nationality))
	}
	return withCheckChar("9" + province + nationality + birthDate(birth) + sequence(seq))
}

// CheckChar returns the ISO 7064 MOD 11-2 check character of 17 ASCII
// digits, as used by resident ID numbers. It panics if first17 is not 17
// digits.
func CheckChar(first17 string) byte {
	if len(first17) != 17 || !isDigits(first17) {
		// The value is left out of the message in case a caller passes a real number.
		panic("identitytest: CheckChar needs exactly 17 ASCII digits")
	}

	// The weight of position i (1-based) is 2^(18-i) mod 11.
	sum := 0
	weight := 1
	for i := 16; i >= 0; i-- {
		weight = weight * 2 % 11
		sum += int(first17[i]-'0') * weight
	}
	// (12 - sum mod 11) mod 11 is the check value, and 10 is written as X.
	value := (12 - sum%11) % 11
	if value == 10 {
		return 'X'
	}
	return byte('0' + value)
}

// usccChars is the GB 32100-2015 character set in value order.
const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// USCC returns body17 followed by its unified social credit code check
// character. It panics if body17 is not 17 characters of the uppercase USCC
// character set. It does not check the registration authority or region code.
func USCC(body17 string) string {
	if len(body17) != 17 {
		panic(fmt.Sprintf("identitytest: USCC needs a 17-character body, got %d bytes", len(body17)))
	}

	// The weight of position i (1-based) is 3^(i-1) mod 31.
	sum := 0
	weight := 1
	for i := 0; i < 17; i++ {
		value := strings.IndexByte(usccChars, body17[i])
		if value < 0 {
			panic(fmt.Sprintf("identitytest: USCC body character %d is outside %s", i+1, usccChars))
		}
		sum += value * weight
		weight = weight * 3 % 31
	}
	return body17 + string(usccChars[(31-sum%31)%31])
}

// RandomUSCC returns a random unified social credit code of an enterprise
// registered in Guangdong: "91", a region code 440000-440999, 9 random
// characters of the set and a valid check character.
func RandomUSCC(r *rand.Rand) string {
	body := []byte(fmt.Sprintf("91440%03d", r.IntN(1000)))
	for len(body) < 17 {
		body = append(body, usccChars[r.IntN(len(usccChars))])
	}
	return USCC(string(body))
}

func withCheckChar(first17 string) string {
	return first17 + string(CheckChar(first17))
}

// birthDate formats birth as YYYYMMDD in its own location.
func birthDate(birth time.Time) string {
	if birth.Year() < 0 || birth.Year() > 9999 {
		panic(fmt.Sprintf("identitytest: birth year %d does not have 4 digits", birth.Year()))
	}
	return birth.Format("20060102")
}

func sequence(seq int) string {
	if seq < 0 || seq > 999 {
		panic(fmt.Sprintf("identitytest: sequence number %d is outside 0-999", seq))
	}
	return fmt.Sprintf("%03d", seq)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
