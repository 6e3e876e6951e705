package identitytest_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/identity/identitytest"
)

func date(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

// assertNormal checks that NormalizeIDNumber accepts number unchanged.
func assertNormal(t *testing.T, docType identity.DocType, number string) {
	t.Helper()
	got, err := identity.NormalizeIDNumber(docType, number)
	if err != nil {
		t.Fatalf("NormalizeIDNumber(%s, %q) error = %v", docType, number, err)
	}
	if got != number {
		t.Errorf("NormalizeIDNumber(%s, %q) = %q", docType, number, got)
	}
}

// assertPanics checks that f panics.
func assertPanics(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	f()
}

func TestCheckCharKnownValue(t *testing.T) {
	// Worked by hand: the weighted sum of 44010619900101123 is 194, and
	// 194 mod 11 = 7 selects '5' from "10X98765432".
	if got := identitytest.CheckChar("44010619900101123"); got != '5' {
		t.Errorf("CheckChar = %q, want '5'", got)
	}
}

func TestResidentIDLayout(t *testing.T) {
	got := identitytest.ResidentID("440106", date(1990, 1, 1), 123)
	if got != "440106199001011235" {
		t.Errorf("ResidentID = %q, want 440106199001011235", got)
	}

	padded := identitytest.ResidentID("440106", date(1990, 1, 1), 7)
	if !strings.HasPrefix(padded, "44010619900101007") {
		t.Errorf("ResidentID with sequence 7 = %q, want sequence 007", padded)
	}
}

func TestRandomResidentIDValid(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		number := identitytest.RandomResidentID(r)
		if !strings.HasPrefix(number, "440") {
			t.Fatalf("RandomResidentID = %q, want region 440xxx", number)
		}

		year := number[6:10]
		if year < "1950" || year > "2005" {
			t.Fatalf("RandomResidentID = %q, want birth year 1950-2005", number)
		}
		assertNormal(t, identity.ResidentID, number)
	}
}

func TestResidencePermitValid(t *testing.T) {
	for _, region := range []string{"810000", "820000", "830000"} {
		t.Run(region, func(t *testing.T) {
			assertNormal(t, identity.ResidencePermit, identitytest.ResidencePermit(region, date(1999, 9, 9), 99))
		})
	}
}

func TestForeignPermanentResidenceValid(t *testing.T) {
	number := identitytest.ForeignPermanentResidence("44", "840", date(1980, 5, 17), 12)
	if !strings.HasPrefix(number, "94484019800517012") {
		t.Errorf("ForeignPermanentResidence = %q, want prefix 94484019800517012", number)
	}
	assertNormal(t, identity.ForeignPermanentResidence, number)
}

func TestUSCCKnownValue(t *testing.T) {
	// Worked by hand: the weighted sum of 91440106000000001 is 312,
	// 312 mod 31 = 2 and 31 - 2 = 29 selects 'X'.
	if got := identitytest.USCC("91440106000000001"); got != "91440106000000001X" {
		t.Errorf("USCC = %q, want 91440106000000001X", got)
	}
}

func TestRandomUSCCValid(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		code := identitytest.RandomUSCC(r)
		if !strings.HasPrefix(code, "91440") {
			t.Fatalf("RandomUSCC = %q, want prefix 91440", code)
		}

		got, err := identity.NormalizeUSCC(code)
		if err != nil {
			t.Fatalf("NormalizeUSCC(%q) error = %v", code, err)
		}
		if got != code {
			t.Errorf("NormalizeUSCC(%q) = %q", code, got)
		}
	}
}

func TestGeneratorsPanicOnBadInput(t *testing.T) {
	birth := date(1990, 1, 1)

	assertPanics(t, "CheckChar with 16 digits", func() { identitytest.CheckChar("4401061990010112") })
	assertPanics(t, "CheckChar with a letter", func() { identitytest.CheckChar("4401061990010112A") })
	assertPanics(t, "ResidentID with 5-digit region", func() { identitytest.ResidentID("44010", birth, 1) })
	assertPanics(t, "ResidentID with sequence 1000", func() { identitytest.ResidentID("440106", birth, 1000) })
	assertPanics(t, "ResidentID with sequence -1", func() { identitytest.ResidentID("440106", birth, -1) })
	assertPanics(t, "ResidentID with year 10000", func() { identitytest.ResidentID("440106", date(10000, 1, 1), 1) })
	assertPanics(t, "ResidencePermit with region 440106", func() { identitytest.ResidencePermit("440106", birth, 1) })
	assertPanics(t, "ForeignPermanentResidence with 1-digit province", func() {
		identitytest.ForeignPermanentResidence("4", "840", birth, 1)
	})
	assertPanics(t, "ForeignPermanentResidence with letter nationality", func() {
		identitytest.ForeignPermanentResidence("44", "84A", birth, 1)
	})
	assertPanics(t, "USCC with 16 characters", func() { identitytest.USCC("9144010600000000") })
	assertPanics(t, "USCC with letter I", func() { identitytest.USCC("91440106I00000001") })
	assertPanics(t, "USCC with lowercase", func() { identitytest.USCC("91440101ma59abcde") })
}
