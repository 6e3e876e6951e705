package identity

import "testing"

func TestNormalizeEnterpriseName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"full-width brackets", "广州市示例科技有限公司（番禺分公司）", "广州市示例科技有限公司(番禺分公司)"},
		{"ASCII brackets with space", "广州市示例科技有限公司 (番禺分公司)", "广州市示例科技有限公司(番禺分公司)"},
		{"lenticular brackets", "【示例】科技有限公司", "[示例]科技有限公司"},
		{"full-width letters and digits", "ａｂｃ１２３科技", "ABC123科技"},
		{"lowercase Latin", "abc科技", "ABC科技"},
		{"accented Latin", "café", "CAFÉ"},
		{"ideographic space", "示例\u3000科技", "示例科技"},
		{"tab and newline", "示例\t科技\n", "示例科技"},
		{"no-break space", "示例\u00A0科技", "示例科技"},
		{"zero width space", "示例\u200B科技", "示例科技"},
		{"byte order mark", "\uFEFF示例科技", "示例科技"},
		{"full-width ampersand", "甲＆乙", "甲&乙"},
		{"empty", "", ""},
		{"invalid UTF-8", "示例\xff", "示例\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeEnterpriseName(tt.in); got != tt.want {
				t.Errorf("NormalizeEnterpriseName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEnterpriseNameSpellingsEqual(t *testing.T) {
	a := NormalizeEnterpriseName("广州市示例科技有限公司（番禺分公司）")
	b := NormalizeEnterpriseName("广州市示例科技有限公司 (番禺分公司)")
	if a != b {
		t.Errorf("keys differ: %q and %q", a, b)
	}
}
