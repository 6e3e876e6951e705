package config_test

import (
	"testing"

	"github.com/gdyst/accountflows/config"
)

func TestLoad_DefaultSupportContacts(t *testing.T) {
	cfg, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []config.SupportContact{
		{Number: "12345", Label: "广东政务服务便民热线"},
		{Number: "020-29859688", Label: "粤商通客服热线"},
	}
	if len(cfg.SupportContacts) != len(want) {
		t.Fatalf("contacts = %+v, want %+v", cfg.SupportContacts, want)
	}
	for i := range want {
		if cfg.SupportContacts[i] != want[i] {
			t.Errorf("contact %d = %+v, want %+v", i, cfg.SupportContacts[i], want[i])
		}
	}
	if cfg.FeedbackLimitPerPerson.String() != "10/1h0m0s" {
		t.Errorf("feedback limit = %s, want 10/1h", cfg.FeedbackLimitPerPerson)
	}
}

func TestParseSupportContacts_Cases(t *testing.T) {
	cases := []struct {
		name  string
		input string
		count int
		valid bool
	}{
		{"one entry", "12345=热线", 1, true},
		{"spaces and empty entries", " 12345 = 热线 , ,+86-20-1234567=Hotline ", 2, true},
		{"label with equals sign", "12345=a=b", 1, true},
		{"missing label", "12345=", 0, false},
		{"missing equals sign", "12345", 0, false},
		{"letters in number", "12a45=热线", 0, false},
		{"too few digits", "12=热线", 0, false},
		{"too many digits", "123456789012345678901=热线", 0, false},
		{"trailing hyphen", "12345-=热线", 0, false},
		{"plus inside", "123+45=热线", 0, false},
		{"control character in label", "12345=热\x07线", 0, false},
		{"label too long", "12345=一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五", 0, false},
		{"nothing", " , ", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			contacts, err := config.ParseSupportContacts(tc.input)
			if tc.valid && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tc.valid && err == nil {
				t.Fatalf("accepted %q as %+v", tc.input, contacts)
			}
			if len(contacts) != tc.count {
				t.Errorf("%d contacts, want %d", len(contacts), tc.count)
			}
		})
	}
}

func TestLoad_RejectsBadSupportContacts(t *testing.T) {
	if _, err := config.Load(env(map[string]string{"YST_SUPPORT_CONTACTS": "hotline"})); err == nil {
		t.Fatal("Load accepted YST_SUPPORT_CONTACTS=hotline")
	}
}
