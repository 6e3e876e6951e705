package registry

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/gdyst/accountflows/identity"
)

// SamplePath is the path of the repository's sample registry, relative to
// the repository's top directory, and the default of YST_REGISTRY_FILE.
const SamplePath = "registry/sample.csv"

// sampleCSV is the sample registry, embedded so that the binary also works
// when it runs outside the repository.
//
//go:embed sample.csv
var sampleCSV []byte

// Header is the required first row of a registry CSV file.
var Header = []string{"uscc", "enterprise_name", "legal_rep_name", "legal_rep_id_type", "legal_rep_id_number", "status"}

// maxEnterpriseNameRunes bounds an enterprise name. Registered names are far
// shorter, so the bound only rejects a corrupt file.
const maxEnterpriseNameRunes = 200

// maxReportedErrors bounds how many invalid rows one error lists.
const maxReportedErrors = 20

// CSV is a Registry held in memory, read once from a CSV file. Its Lookup
// returns no error other than ErrNotFound.
type CSV struct {
	enterprises map[string]Enterprise
}

// Lookup implements Registry.
func (r *CSV) Lookup(_ context.Context, uscc string) (Enterprise, error) {
	e, ok := r.enterprises[uscc]
	if !ok {
		return Enterprise{}, ErrNotFound
	}
	return e, nil
}

// Len returns the number of enterprises in the registry.
func (r *CSV) Len() int { return len(r.enterprises) }

// Open reads the registry CSV file at path. When path is SamplePath and no
// such file exists, as when the binary runs from another directory, Open
// returns the embedded copy of the sample instead.
func Open(path string) (*CSV, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && filepath.Clean(path) == filepath.Clean(SamplePath) {
		return Sample()
	}
	if err != nil {
		return nil, fmt.Errorf("unable to open the registry file: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Sample returns the registry of the embedded sample file.
func Sample() (*CSV, error) {
	return Parse(bytes.NewReader(sampleCSV), "embedded "+SamplePath)
}

// Parse reads a registry in CSV form with the columns of Header. source
// names the input in errors. Every row is validated and an invalid row makes
// the whole registry invalid. The error names the line and the column of each
// invalid field but never its value, because the fields hold personal data.
func Parse(r io.Reader, source string) (*CSV, error) {
	reader := csv.NewReader(r)
	reader.FieldsPerRecord = len(Header)
	if err := readHeader(reader); err != nil {
		return nil, fmt.Errorf("registry %s: %w", source, err)
	}

	enterprises := make(map[string]Enterprise)
	firstLine := make(map[string]int)
	var errs []error
	for {
		record, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// csv.ParseError names the line and the problem, not the field's text.
			errs = append(errs, err)
			break
		}
		line, _ := reader.FieldPos(0)
		e, err := parseRow(record)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", line, err))
			continue
		}
		if first, seen := firstLine[e.USCC]; seen {
			errs = append(errs, fmt.Errorf("line %d: uscc repeats the one on line %d", line, first))
			continue
		}
		firstLine[e.USCC] = line
		enterprises[e.USCC] = e
	}

	if len(errs) > maxReportedErrors {
		more := len(errs) - maxReportedErrors
		errs = append(errs[:maxReportedErrors], fmt.Errorf("and %d more invalid rows", more))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("registry %s is invalid: %w", source, errors.Join(errs...))
	}
	if len(enterprises) == 0 {
		return nil, fmt.Errorf("registry %s contains no enterprises", source)
	}
	return &CSV{enterprises: enterprises}, nil
}

// readHeader checks the first row. A UTF-8 byte order mark, which
// spreadsheet programs write, is ignored.
func readHeader(reader *csv.Reader) error {
	record, err := reader.Read()
	if errors.Is(err, io.EOF) {
		return errors.New("the file is empty: expected the header " + strings.Join(Header, ","))
	}
	if err != nil {
		return err
	}
	record[0] = strings.TrimPrefix(record[0], "\uFEFF")
	for i, name := range Header {
		if strings.TrimSpace(record[i]) != name {
			return fmt.Errorf("line 1: column %d of the header is not %s: expected the header %s", i+1, name, strings.Join(Header, ","))
		}
	}
	return nil
}

// parseRow validates one record. Errors name the column, never the value.
func parseRow(record []string) (Enterprise, error) {
	uscc, err := identity.NormalizeUSCC(record[0])
	if err != nil {
		return Enterprise{}, errors.New("uscc is not a valid unified social credit code (18 characters with a GB 32100 check character)")
	}

	name := strings.TrimSpace(record[1])
	if name == "" || utf8.RuneCountInString(name) > maxEnterpriseNameRunes {
		return Enterprise{}, fmt.Errorf("enterprise_name is empty or longer than %d characters", maxEnterpriseNameRunes)
	}

	repName, err := identity.NormalizeName(record[2])
	if err != nil {
		return Enterprise{}, errors.New("legal_rep_name is not a valid personal name")
	}
	docType, err := identity.ParseDocType(strings.TrimSpace(record[3]))
	if err != nil {
		return Enterprise{}, errors.New("legal_rep_id_type is not one of resident_id, residence_permit, foreign_permanent_residence, hkmo_travel_permit, tw_travel_permit")
	}
	number, err := identity.NormalizeIDNumber(docType, record[4])
	if err != nil {
		return Enterprise{}, errors.New("legal_rep_id_number is not a valid number of the document type in legal_rep_id_type")
	}

	status := Status(strings.TrimSpace(record[5]))
	if status != StatusActive && status != StatusDeregistered {
		return Enterprise{}, errors.New("status is not active or deregistered")
	}

	return Enterprise{
		USCC:     uscc,
		Name:     name,
		LegalRep: LegalRepresentative{Name: repName, IDType: docType, IDNumber: number},
		Status:   status,
	}, nil
}
