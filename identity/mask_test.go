package identity

import "testing"

func TestMaskIDNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"resident ID", "440106199001011235", "4401**********1235"},
		{"check char X", "44010619900101123X", "4401**********123X"},
		{"surrounding spaces", " 440106199001011235 ", "4401**********1235"},
		{"19 characters", "4401061990010112350", "4401***********2350"},
		{"HKMO 8 digits", "H12345678", "H******78"},
		{"HKMO 10 digits", "H1234567890", "H********90"},
		{"TW 8 digits", "12345678", "1*****78"},
		{"17 characters", "44010619900101123", "4**************23"},
		{"4 characters", "1234", "1*34"},
		{"3 characters", "123", "***"},
		{"1 character", "1", "*"},
		{"empty", "", ""},
		{"only spaces", "   ", ""},
		{"multibyte", "张三李四王五", "张***王五"},
		{"18 multibyte", "一二三四五六七八九十一二三四五六七八", "一二三四**********五六七八"},
		{"invalid UTF-8", "\xff\xfe\xfd\xfc", "\uFFFD*\uFFFD\uFFFD"},
		{"invalid UTF-8 byte alone", "\xff", "*"},
		{"input with stars", "00000000******0000", "0000**********0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskIDNumber(tt.in); got != tt.want {
				t.Errorf("MaskIDNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"1 rune", "张", "*"},
		{"2 runes", "张三", "张*"},
		{"3 runes", "张三丰", "张**"},
		{"4 runes", "欧阳娜娜", "欧阳**"},
		{"5 runes", "司马相如你", "司马***"},
		{"surrounding spaces", " 张三\u3000", "张*"},
		{"middle dot", "艾力·买买提", "艾*·***"},
		{"bullet", "艾力•买买提", "艾*•***"},
		{"Latin", "John Smith", "J*** *****"},
		{"Latin with middle dot", "John·Smith", "J***·*****"},
		{"2 Latin letters", "Li", "L*"},
		{"1 Latin letter", "J", "*"},
		{"empty", "", ""},
		{"only spaces", "   ", ""},
		{"invalid UTF-8", "\xff\xfe", "\uFFFD*"},
		{"invalid UTF-8 byte alone", "\xff", "*"},
		{"leading middle dot", "·张", "·*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskName(tt.in); got != tt.want {
				t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
