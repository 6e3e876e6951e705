package identity

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gdyst/accountflows/identity/identitytest"
)

// knownUSCC was worked by hand: the weighted sum of 91440106000000001 is 312,
// 312 mod 31 = 2 and 31 - 2 = 29 selects 'X' from usccChars.
const knownUSCC = "91440106000000001X"

func TestNormalizeUSCC(t *testing.T) {
	valid := identitytest.USCC("91440101MA59ABCDE")
	rural := identitytest.USCC("N2440106000000001")

	tests := []struct {
		name string
		in   string
		want string
	}{
		{"known value", knownUSCC, knownUSCC},
		{"with letters", valid, valid},
		{"lowercase", strings.ToLower(valid), valid},
		{"mixed case", "91440101ma59AbCdE" + valid[17:], valid},
		{"surrounding spaces", "  " + valid + " ", valid},
		{"authority A", identitytest.USCC("A1440106000000001"), identitytest.USCC("A1440106000000001")},
		{"authority G", identitytest.USCC("G1440106000000001"), identitytest.USCC("G1440106000000001")},
		{"authority N", rural, rural},
		{"authority Y", identitytest.USCC("Y1440106000000001"), identitytest.USCC("Y1440106000000001")},
		{"category letter", identitytest.USCC("9X440106000000001"), identitytest.USCC("9X440106000000001")},
		{"category 0", identitytest.USCC("90440106000000001"), identitytest.USCC("90440106000000001")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeUSCC(tt.in)
			if err != nil {
				t.Fatalf("NormalizeUSCC(%q) error = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeUSCC(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeUSCCRejects(t *testing.T) {
	valid := identitytest.USCC("91440101MA59ABCDE")

	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"length 17", valid[:17]},
		{"length 19", valid + "0"},
		{"trailing letters", valid + "abc"},
		{"wrong check char", replaceAt(valid, 17, nextUSCCChar(valid[17]))},
		{"authority 0", identitytest.USCC("01440106000000001")},
		{"authority H", identitytest.USCC("H1440106000000001")},
		{"authority X", identitytest.USCC("X1440106000000001")},
		{"letter in region", identitytest.USCC("9144A106000000001")},
		{"inner space", valid[:8] + " " + valid[9:]},
		{"embedded newline", valid[:8] + "\n" + valid[9:]},
		{"trailing newline", valid + "\n"},
		{"full-width digit", "９" + valid[1:]},
		{"hyphen", replaceAt(valid, 10, "-")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeUSCC(tt.in)
			assertRejected(t, err, ErrInvalidUSCC, tt.in)
			if got != "" {
				t.Errorf("NormalizeUSCC(%q) = %q, want empty on error", tt.in, got)
			}
		})
	}
}

// nextUSCCChar returns a USCC character different from c.
func nextUSCCChar(c byte) string {
	i := strings.IndexByte(usccChars, c)
	return string(usccChars[(i+1)%len(usccChars)])
}

func TestNormalizeUSCCExcludedLetters(t *testing.T) {
	valid := identitytest.USCC("91440101MA59ABCDE")

	for _, letter := range []string{"I", "O", "Z", "S", "V", "i", "o", "z", "s", "v"} {
		t.Run(letter, func(t *testing.T) {
			inBody := replaceAt(valid, 10, letter)
			_, err := NormalizeUSCC(inBody)
			if !errors.Is(err, ErrInvalidUSCC) {
				t.Errorf("letter in body: error = %v, want ErrInvalidUSCC", err)
			}

			asCheckChar := replaceAt(valid, 17, letter)
			_, err = NormalizeUSCC(asCheckChar)
			if !errors.Is(err, ErrInvalidUSCC) {
				t.Errorf("letter as check char: error = %v, want ErrInvalidUSCC", err)
			}
		})
	}
}

func TestNormalizeUSCCCheckCharZero(t *testing.T) {
	// A check character '0' needs a weighted sum that is a multiple of 31, so
	// that (31 - 0) mod 31 = 0. Search the last two body characters for one.
	var code string
	for _, a := range usccChars {
		for _, b := range usccChars {
			candidate := identitytest.USCC("914401060000000" + string(a) + string(b))
			if candidate[17] == '0' {
				code = candidate
				break
			}
		}
		if code != "" {
			break
		}
	}
	if code == "" {
		t.Fatal("no body gives check character '0'")
	}

	got, err := NormalizeUSCC(code)
	if err != nil {
		t.Fatalf("NormalizeUSCC(%q) error = %v", code, err)
	}
	if got != code {
		t.Errorf("NormalizeUSCC(%q) = %q", code, got)
	}

	tampered := replaceAt(code, 17, "Y")
	if _, err := NormalizeUSCC(tampered); !errors.Is(err, ErrInvalidUSCC) {
		t.Errorf("NormalizeUSCC(%q) error = %v, want ErrInvalidUSCC", tampered, err)
	}
}

func TestNormalizeUSCCRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		code := identitytest.RandomUSCC(r)
		got, err := NormalizeUSCC(code)
		if err != nil {
			t.Fatalf("NormalizeUSCC(%q) error = %v", code, err)
		}
		if got != code {
			t.Fatalf("NormalizeUSCC(%q) = %q", code, got)
		}
	}
}

// The USCC check validates shape only. An 18-digit resident ID number passes
// it about once in 31 tries, and is still a resident ID number. What a value
// is comes from the field it was submitted in, so callers must never guess
// the document type from a value that passes NormalizeUSCC.
func TestResidentIDPassingUSCCCheck(t *testing.T) {
	pinToday(t)

	var number string
	for seq := 0; seq < 1000; seq++ {
		candidate := identitytest.ResidentID("440106", date(1990, 1, 1), seq)
		if _, err := NormalizeUSCC(candidate); err == nil {
			number = candidate
			break
		}
	}
	if number == "" {
		t.Fatal("no resident ID number in the search passes the USCC check")
	}

	asIDNumber, err := NormalizeIDNumber(ResidentID, number)
	if err != nil {
		t.Fatalf("NormalizeIDNumber(%q) error = %v", number, err)
	}
	if asIDNumber != number {
		t.Errorf("NormalizeIDNumber(%q) = %q", number, asIDNumber)
	}

	asUSCC, err := NormalizeUSCC(number)
	if err != nil {
		t.Fatalf("NormalizeUSCC(%q) error = %v", number, err)
	}
	if asUSCC != number {
		t.Errorf("NormalizeUSCC(%q) = %q", number, asUSCC)
	}
}

func TestUSCCIsNotResidentID(t *testing.T) {
	pinToday(t)

	_, err := NormalizeIDNumber(ResidentID, knownUSCC)
	if !errors.Is(err, ErrInvalidIDNumber) {
		t.Errorf("NormalizeIDNumber(%q) error = %v, want ErrInvalidIDNumber", knownUSCC, err)
	}
}
