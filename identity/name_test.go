package identity

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"Chinese", "张三", "张三"},
		{"single rune", "张", "张"},
		{"compound surname", "欧阳娜娜", "欧阳娜娜"},
		{"rare ideograph", "王𠀀", "王𠀀"},
		{"surrounding spaces", "  张三 ", "张三"},
		{"ideographic space padding", "\u3000张三\u3000", "张三"},
		{"tab and newline padding", "\t张三\n", "张三"},
		{"minority middle dot", "艾力·买买提", "艾力·买买提"},
		{"bullet becomes middle dot", "艾力•买买提", "艾力·买买提"},
		{"katakana dot becomes middle dot", "艾力・买买提", "艾力·买买提"},
		{"two middle dots", "阿卜杜·热西提·买买提", "阿卜杜·热西提·买买提"},
		{"Latin", "John Smith", "John Smith"},
		{"Latin space run collapses", "John   Smith", "John Smith"},
		{"Latin with middle dot", "John·Smith", "John·Smith"},
		{"Latin accent", "José Núñez", "José Núñez"},
		{"full-width Latin", "ＪＯＨＮ", "JOHN"},
		{"Han and Latin", "张Wei", "张Wei"},
		{"64 runes", strings.Repeat("张", 64), strings.Repeat("张", 64)},
		{"64 runes after collapse", strings.Repeat("A", 32) + "    " + strings.Repeat("B", 31), strings.Repeat("A", 32) + " " + strings.Repeat("B", 31)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeName(tt.in)
			if err != nil {
				t.Fatalf("NormalizeName(%q) error = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeNameRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"only spaces", "   "},
		{"only ideographic space", "\u3000\u3000"},
		{"65 runes", strings.Repeat("张", 65)},
		{"65 Latin runes", strings.Repeat("A", 33) + " " + strings.Repeat("B", 31)},
		{"digit", "张3"},
		{"full-width digit", "张３"},
		{"Han numeral zero", "张〇"},
		{"Kangxi radical", "\u2F00张"},
		{"NUL", "张\x00三"},
		{"bell", "\a张三"},
		{"inner newline", "张\n三"},
		{"inner tab", "John\tSmith"},
		{"DEL", "张\x7f"},
		{"C1 control", "张\u0085三"},
		{"invalid UTF-8", "张\xff三"},
		{"truncated UTF-8", "张\xe4\xb8"},
		{"leading middle dot", "·张三"},
		{"trailing middle dot", "张三·"},
		{"trailing bullet", "张三•"},
		{"doubled middle dot", "艾力··买买提"},
		{"mixed doubled dots", "艾力·・买买提"},
		{"only middle dot", "·"},
		{"space between Han", "张 三"},
		{"space before middle dot", "John ·Smith"},
		{"space after middle dot", "John· Smith"},
		{"inner ideographic space", "张\u3000三"},
		{"inner no-break space", "John\u00A0Smith"},
		{"zero width space", "张\u200B三"},
		{"right-to-left override", "\u202E张三"},
		{"hyphen", "Mary-Jane"},
		{"apostrophe", "O'Brien"},
		{"full stop", "J. Smith"},
		{"ideographic comma", "张、三"},
		{"combining accent", "Jose\u0301"},
		{"Cyrillic", "Иван"},
		{"Hiragana", "さくら"},
		{"emoji", "张😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeName(tt.in)
			assertRejected(t, err, ErrInvalidName, tt.in)
			if got != "" {
				t.Errorf("NormalizeName(%q) = %q, want empty on error", tt.in, got)
			}
		})
	}
}
