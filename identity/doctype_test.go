package identity

import (
	"errors"
	"testing"
)

func TestParseDocType(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want DocType
	}{
		{"empty is resident ID", "", ResidentID},
		{"resident ID", "resident_id", ResidentID},
		{"residence permit", "residence_permit", ResidencePermit},
		{"foreign permanent residence", "foreign_permanent_residence", ForeignPermanentResidence},
		{"HKMO travel permit", "hkmo_travel_permit", HKMOTravelPermit},
		{"TW travel permit", "tw_travel_permit", TWTravelPermit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDocType(tt.in)
			if err != nil {
				t.Fatalf("ParseDocType(%q) error = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseDocType(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDocTypeRejects(t *testing.T) {
	for _, in := range []string{"passport", "RESIDENT_ID", " resident_id", "resident_id ", "resident-id", " "} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseDocType(in)
			if !errors.Is(err, ErrInvalidDocType) {
				t.Errorf("ParseDocType(%q) error = %v, want ErrInvalidDocType", in, err)
			}
			if got != "" {
				t.Errorf("ParseDocType(%q) = %q, want empty", in, got)
			}
		})
	}
}

func TestDocTypeValid(t *testing.T) {
	tests := []struct {
		in   DocType
		want bool
	}{
		{ResidentID, true},
		{ResidencePermit, true},
		{ForeignPermanentResidence, true},
		{HKMOTravelPermit, true},
		{TWTravelPermit, true},
		{"", false},
		{"passport", false},
	}
	for _, tt := range tests {
		if got := tt.in.Valid(); got != tt.want {
			t.Errorf("DocType(%q).Valid() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDocTypeFaceVerifiable(t *testing.T) {
	tests := []struct {
		in   DocType
		want bool
	}{
		{ResidentID, true},
		{ResidencePermit, true},
		{ForeignPermanentResidence, true},
		{HKMOTravelPermit, false},
		{TWTravelPermit, false},
		{"", false},
		{"passport", false},
	}
	for _, tt := range tests {
		if got := tt.in.FaceVerifiable(); got != tt.want {
			t.Errorf("DocType(%q).FaceVerifiable() = %v, want %v", tt.in, got, tt.want)
		}
	}
}
