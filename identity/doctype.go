package identity

// DocType is the kind of identity document.
type DocType string

const (
	ResidentID                DocType = "resident_id"                 // 居民身份证 (default)
	ResidencePermit           DocType = "residence_permit"            // 港澳台居民居住证
	ForeignPermanentResidence DocType = "foreign_permanent_residence" // 外国人永久居留身份证, 2023 format
	HKMOTravelPermit          DocType = "hkmo_travel_permit"          // 回乡证
	TWTravelPermit            DocType = "tw_travel_permit"            // 台胞证
)

// ParseDocType converts the id_type request value to a DocType. An empty
// string selects ResidentID. Any other unknown value returns ErrInvalidDocType.
// Matching is exact, so the value must be lowercase without spaces.
func ParseDocType(s string) (DocType, error) {
	if s == "" {
		return ResidentID, nil
	}

	t := DocType(s)
	if !t.Valid() {
		return "", invalid(ErrInvalidDocType, "unknown document type")
	}
	return t, nil
}

// Valid reports whether t is one of the declared document types. The empty
// DocType is not valid, because only ParseDocType maps an empty request value
// to ResidentID.
func (t DocType) Valid() bool {
	switch t {
	case ResidentID, ResidencePermit, ForeignPermanentResidence, HKMOTravelPermit, TWTravelPermit:
		return true
	}
	return false
}

// FaceVerifiable reports whether holders of t can go through face
// verification. It is false for the two travel permits and for invalid types.
func (t DocType) FaceVerifiable() bool {
	switch t {
	case ResidentID, ResidencePermit, ForeignPermanentResidence:
		return true
	}
	return false
}
