package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultSupportContacts are the hotlines of the first users: Guangdong's
// government service hotline and the 粤商通 service line.
const DefaultSupportContacts = "12345=广东政务服务便民热线,020-29859688=粤商通客服热线"

// SupportContact is a hotline shown to users.
type SupportContact struct {
	Number string
	Label  string
}

// ParseSupportContacts reads comma-separated number=label entries, such as
// "12345=广东政务服务便民热线". A number is 3 to 20 digits with an optional
// leading '+' and '-' between digits. A label is 1 to 64 characters without
// control characters.
func ParseSupportContacts(s string) ([]SupportContact, error) {
	var contacts []SupportContact
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		number, label, ok := strings.Cut(entry, "=")
		number, label = strings.TrimSpace(number), strings.TrimSpace(label)
		if !ok || label == "" {
			return nil, fmt.Errorf("invalid entry %q: expected number=label, such as 12345=广东政务服务便民热线", entry)
		}
		if !validPhoneNumber(number) {
			return nil, fmt.Errorf("invalid number %q: expected 3 to 20 digits, with '-' or a leading '+'", number)
		}
		if utf8.RuneCountInString(label) > 64 || strings.ContainsFunc(label, unicode.IsControl) {
			return nil, fmt.Errorf("invalid label %q: expected 1 to 64 characters without control characters", label)
		}
		contacts = append(contacts, SupportContact{Number: number, Label: label})
	}
	if len(contacts) == 0 {
		return nil, errors.New("no contact: expected at least one number=label entry")
	}
	return contacts, nil
}

func validPhoneNumber(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == '-' && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 20
}
