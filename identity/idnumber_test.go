package identity

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/identity/identitytest"
)

// today is noon on 2025-06-15 in China, the time that pinToday makes now
// return.
var today = time.Date(2025, 6, 15, 12, 0, 0, 0, chinaStandardTime)

// pinNow makes now return at until the test ends.
func pinNow(t *testing.T, at time.Time) {
	t.Helper()
	saved := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = saved })
}

func pinToday(t *testing.T) {
	t.Helper()
	pinNow(t, today)
}

func date(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

// withCheckChar appends the MOD 11-2 check character to 17 digits. It builds
// numbers with impossible dates, which time.Time cannot hold.
func withCheckChar(t *testing.T, first17 string) string {
	t.Helper()
	return first17 + string(identitytest.CheckChar(first17))
}

// replaceAt returns s with the byte at i replaced by c.
func replaceAt(s string, i int, c string) string {
	return s[:i] + c + s[i+1:]
}

type idNumberCase struct {
	name string
	in   string
	want string // canonical form, or empty when in must be rejected
}

// checkIDNumberCases runs NormalizeIDNumber(docType, ...) over cases.
func checkIDNumberCases(t *testing.T, docType DocType, cases []idNumberCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeIDNumber(docType, tc.in)

			if tc.want == "" {
				assertRejected(t, err, ErrInvalidIDNumber, tc.in)
				if got != "" {
					t.Errorf("NormalizeIDNumber(%s, %q) = %q, want empty on error", docType, tc.in, got)
				}
				return
			}

			if err != nil {
				t.Fatalf("NormalizeIDNumber(%s, %q) error = %v", docType, tc.in, err)
			}
			if got != tc.want {
				t.Errorf("NormalizeIDNumber(%s, %q) = %q, want %q", docType, tc.in, got, tc.want)
			}
		})
	}
}

// assertRejected checks that err wraps sentinel and does not contain the
// rejected value.
func assertRejected(t *testing.T, err, sentinel error, value string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error = %v, want %v", err, sentinel)
	}
	value = strings.TrimSpace(value)
	if len(value) >= 4 && strings.Contains(err.Error(), value) {
		t.Errorf("error %q contains the rejected value", err)
	}
}

func TestCheckCharKnownValue(t *testing.T) {
	// Worked by hand: the weighted sum of 44010619900101123 is 194, and
	// 194 mod 11 = 7 selects '5' from "10X98765432".
	if got := mod11CheckChar("44010619900101123"); got != '5' {
		t.Errorf("mod11CheckChar = %q, want '5'", got)
	}
	if got := identitytest.CheckChar("44010619900101123"); got != '5' {
		t.Errorf("identitytest.CheckChar = %q, want '5'", got)
	}
}

func TestResidentIDEveryCheckChar(t *testing.T) {
	pinToday(t)

	// Vary the sequence number until every check character has a number.
	byCheckChar := map[byte]string{}
	for seq := 0; seq < 1000 && len(byCheckChar) < 11; seq++ {
		number := identitytest.ResidentID("440106", date(1990, 1, 1), seq)
		byCheckChar[number[17]] = number
	}

	for _, c := range []byte(mod11CheckChars) {
		number, found := byCheckChar[c]
		if !found {
			t.Fatalf("no sequence number gives check character %q", c)
		}

		t.Run(string(c), func(t *testing.T) {
			got, err := NormalizeIDNumber(ResidentID, number)
			if err != nil {
				t.Fatalf("NormalizeIDNumber(%q) error = %v", number, err)
			}
			if got != number {
				t.Errorf("NormalizeIDNumber(%q) = %q", number, got)
			}

			for _, wrong := range []byte(mod11CheckChars) {
				if wrong == c {
					continue
				}
				tampered := replaceAt(number, 17, string(wrong))
				_, err := NormalizeIDNumber(ResidentID, tampered)
				if !errors.Is(err, ErrInvalidIDNumber) {
					t.Errorf("NormalizeIDNumber(%q) error = %v, want ErrInvalidIDNumber", tampered, err)
				}
			}
		})
	}
}

func TestResidentIDLowercaseX(t *testing.T) {
	pinToday(t)

	var number string
	for seq := 0; seq < 1000; seq++ {
		number = identitytest.ResidentID("440106", date(1985, 7, 20), seq)
		if number[17] == 'X' {
			break
		}
	}
	if number[17] != 'X' {
		t.Fatal("no sequence number gives check character X")
	}

	lower := number[:17] + "x"
	got, err := NormalizeIDNumber(ResidentID, lower)
	if err != nil {
		t.Fatalf("NormalizeIDNumber(%q) error = %v", lower, err)
	}
	if got != number {
		t.Errorf("NormalizeIDNumber(%q) = %q, want %q", lower, got, number)
	}
}

func TestNormalizeResidentID(t *testing.T) {
	pinToday(t)
	valid := identitytest.ResidentID("440106", date(1990, 1, 1), 123)

	checkIDNumberCases(t, ResidentID, []idNumberCase{
		{"valid", valid, valid},
		{"known value", "440106199001011235", "440106199001011235"},
		{"surrounding spaces", "  " + valid + " ", valid},

		{"empty", "", ""},
		{"only spaces", "   ", ""},
		{"length 17", valid[:17], ""},
		{"length 19", valid + "0", ""},
		{"trailing letters", valid + "abc", ""},
		{"leading letters", "ID" + valid, ""},
		{"trailing newline", valid + "\n", ""},
		{"leading tab", "\t" + valid, ""},
		{"embedded newline", valid[:9] + "\n" + valid[9:], ""},
		{"newline replaces digit", replaceAt(valid, 9, "\n"), ""},
		{"inner space", valid[:6] + " " + valid[6:], ""},
		{"ideographic space padding", "\u3000" + valid, ""},
		{"full-width digit", "４" + valid[1:], ""},
		{"letter in region", replaceAt(valid, 2, "A"), ""},
		{"letter in birth date", replaceAt(valid, 8, "O"), ""},
		{"letter in sequence", replaceAt(valid, 15, "B"), ""},
		{"X in region", replaceAt(valid, 3, "X"), ""},
		{"X in body", replaceAt(valid, 16, "X"), ""},
		{"wrong check char", replaceAt(valid, 17, string(nextCheckChar(valid[17]))), ""},
		{"region starts with 0", withCheckChar(t, "04010619900101123"), ""},
	})
}

// nextCheckChar returns a check character different from c.
func nextCheckChar(c byte) byte {
	i := strings.IndexByte(mod11CheckChars, c)
	return mod11CheckChars[(i+1)%len(mod11CheckChars)]
}

func TestResidentIDBirthDate(t *testing.T) {
	pinToday(t)

	checkIDNumberCases(t, ResidentID, []idNumberCase{
		{"leap day 2000", withCheckChar(t, "44010620000229123"), withCheckChar(t, "44010620000229123")},
		{"leap day 2024", withCheckChar(t, "44010620240229123"), withCheckChar(t, "44010620240229123")},
		{"first day of 1900", withCheckChar(t, "44010619000101123"), withCheckChar(t, "44010619000101123")},
		{"day 31", withCheckChar(t, "44010619991231123"), withCheckChar(t, "44010619991231123")},
		{"today", withCheckChar(t, "44010620250615123"), withCheckChar(t, "44010620250615123")},

		{"leap day 1900", withCheckChar(t, "44010619000229123"), ""},
		{"leap day 2023", withCheckChar(t, "44010620230229123"), ""},
		{"February 30 2024", withCheckChar(t, "44010620240230123"), ""},
		{"April 31", withCheckChar(t, "44010619990431123"), ""},
		{"month 00", withCheckChar(t, "44010619990001123"), ""},
		{"month 13", withCheckChar(t, "44010619991301123"), ""},
		{"day 00", withCheckChar(t, "44010619990100123"), ""},
		{"day 32", withCheckChar(t, "44010619990132123"), ""},
		{"year 1899", withCheckChar(t, "44010618991231123"), ""},
		{"year 0000", withCheckChar(t, "44010600000101123"), ""},
		{"tomorrow", withCheckChar(t, "44010620250616123"), ""},
		{"next year", withCheckChar(t, "44010620260101123"), ""},
		{"year 9999", withCheckChar(t, "44010699991231123"), ""},
	})
}

func TestResidentIDTodayInChina(t *testing.T) {
	// 17:00 UTC on June 15 is already June 16 in China.
	pinNow(t, time.Date(2025, 6, 15, 17, 0, 0, 0, time.UTC))
	number := withCheckChar(t, "44010620250616123")

	got, err := NormalizeIDNumber(ResidentID, number)
	if err != nil {
		t.Fatalf("NormalizeIDNumber(%q) error = %v", number, err)
	}
	if got != number {
		t.Errorf("NormalizeIDNumber(%q) = %q", number, got)
	}
}

func TestNormalizeResidencePermit(t *testing.T) {
	pinToday(t)
	hongKong := identitytest.ResidencePermit("810000", date(1995, 3, 8), 41)
	macao := identitytest.ResidencePermit("820000", date(2000, 2, 29), 7)
	taiwan := identitytest.ResidencePermit("830000", date(1970, 12, 31), 999)

	checkIDNumberCases(t, ResidencePermit, []idNumberCase{
		{"Hong Kong", hongKong, hongKong},
		{"Macao", macao, macao},
		{"Taiwan", taiwan, taiwan},
		{"surrounding spaces", " " + taiwan + " ", taiwan},
		{"lowercase x", lowercaseXNumber(t, "810000"), strings.ToUpper(lowercaseXNumber(t, "810000"))},

		{"Guangzhou region", identitytest.ResidentID("440106", date(1995, 3, 8), 41), ""},
		{"region 810100", identitytest.ResidentID("810100", date(1995, 3, 8), 41), ""},
		{"region 840000", identitytest.ResidentID("840000", date(1995, 3, 8), 41), ""},
		{"leap day 1900", withCheckChar(t, "81000019000229123"), ""},
		{"future birth date", withCheckChar(t, "82000020300101123"), ""},
		{"wrong check char", replaceAt(macao, 17, string(nextCheckChar(macao[17]))), ""},
		{"length 17", macao[:17], ""},
		{"length 19", macao + "1", ""},
		{"trailing letters", macao + "abc", ""},
		{"letter in sequence", replaceAt(macao, 14, "A"), ""},
	})
}

// lowercaseXNumber returns a resident ID layout number in region whose check
// character is 'X', written as lowercase 'x'.
func lowercaseXNumber(t *testing.T, region string) string {
	t.Helper()
	for seq := 0; seq < 1000; seq++ {
		number := identitytest.ResidentID(region, date(1988, 8, 8), seq)
		if number[17] == 'X' {
			return number[:17] + "x"
		}
	}
	t.Fatalf("no sequence number in region %s gives check character X", region)
	return ""
}

func TestNormalizeForeignPermanentResidence(t *testing.T) {
	pinToday(t)
	valid := identitytest.ForeignPermanentResidence("44", "840", date(1980, 5, 17), 12)
	leapDay := identitytest.ForeignPermanentResidence("11", "156", date(2000, 2, 29), 1)

	var lowerX string
	for seq := 0; seq < 1000; seq++ {
		number := identitytest.ForeignPermanentResidence("31", "392", date(1975, 1, 2), seq)
		if number[17] == 'X' {
			lowerX = number[:17] + "x"
			break
		}
	}

	checkIDNumberCases(t, ForeignPermanentResidence, []idNumberCase{
		{"valid", valid, valid},
		{"leap day 2000", leapDay, leapDay},
		{"surrounding spaces", " " + valid + " ", valid},
		{"lowercase x", lowerX, strings.ToUpper(lowerX)},

		{"starts with 8", withCheckChar(t, "84484019800517012"), ""},
		{"resident ID", identitytest.ResidentID("440106", date(1980, 5, 17), 12), ""},
		{"province 00", withCheckChar(t, "90084019800517012"), ""},
		{"letter in province", "9A" + valid[2:], ""},
		{"letter in nationality", replaceAt(valid, 4, "B"), ""},
		{"leap day 2023", withCheckChar(t, "94484020230229012"), ""},
		{"February 30 2024", withCheckChar(t, "94484020240230012"), ""},
		{"month 13", withCheckChar(t, "94484019801301012"), ""},
		{"future birth date", withCheckChar(t, "94484020250616012"), ""},
		{"wrong check char", replaceAt(valid, 17, string(nextCheckChar(valid[17]))), ""},
		{"length 15", valid[:15], ""},
		{"length 17", valid[:17], ""},
		{"length 19", valid + "1", ""},
		{"trailing letters", valid + "abc", ""},
		{"embedded newline", valid[:9] + "\n" + valid[9:], ""},
	})
}

func TestNormalizeHKMOTravelPermit(t *testing.T) {
	checkIDNumberCases(t, HKMOTravelPermit, []idNumberCase{
		{"Hong Kong 8 digits", "H12345678", "H12345678"},
		{"Macao 8 digits", "M87654321", "M87654321"},
		{"Hong Kong 10 digits", "H1234567890", "H1234567890"},
		{"Macao 10 digits", "M0123456789", "M0123456789"},
		{"lowercase h", "h12345678", "H12345678"},
		{"lowercase m", "m0123456789", "M0123456789"},
		{"surrounding spaces", " H12345678  ", "H12345678"},

		{"empty", "", ""},
		{"letter only", "H", ""},
		{"7 digits", "H1234567", ""},
		{"9 digits", "H123456789", ""},
		{"11 digits", "H12345678901", ""},
		{"no letter", "123456789", ""},
		{"other letter", "K12345678", ""},
		{"two letters", "HM2345678", ""},
		{"letter in digits", "H1234A678", ""},
		{"trailing letter", "H1234567A", ""},
		{"full-width H", "Ｈ12345678", ""},
		{"full-width digit", "H1234567８", ""},
		{"inner space", "H 12345678", ""},
		{"trailing newline", "H12345678\n", ""},
		{"trailing junk", "H12345678abc", ""},
		{"sign", "H+2345678", ""},
	})
}

func TestNormalizeTWTravelPermit(t *testing.T) {
	checkIDNumberCases(t, TWTravelPermit, []idNumberCase{
		{"8 digits", "12345678", "12345678"},
		{"10 digits", "0123456789", "0123456789"},
		{"surrounding spaces", " 12345678 ", "12345678"},

		{"empty", "", ""},
		{"7 digits", "1234567", ""},
		{"9 digits", "123456789", ""},
		{"11 digits", "01234567890", ""},
		{"leading letter", "T1234567", ""},
		{"letter in digits", "1234X678", ""},
		{"lowercase letter", "1234567x", ""},
		{"full-width digit", "1234567８", ""},
		{"inner space", "1234 5678", ""},
		{"trailing newline", "12345678\n", ""},
		{"trailing junk", "12345678abc", ""},
		{"minus sign", "-1234567", ""},
	})
}

func TestNormalizeIDNumberInvalidDocType(t *testing.T) {
	for _, docType := range []DocType{"", "passport", "RESIDENT_ID"} {
		t.Run(string(docType), func(t *testing.T) {
			got, err := NormalizeIDNumber(docType, "440106199001011235")
			if !errors.Is(err, ErrInvalidDocType) {
				t.Errorf("error = %v, want ErrInvalidDocType", err)
			}
			if got != "" {
				t.Errorf("NormalizeIDNumber = %q, want empty", got)
			}
		})
	}
}
