package registry

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/identity/identitytest"
)

const headerLine = "uscc,enterprise_name,legal_rep_name,legal_rep_id_type,legal_rep_id_number,status\n"

var (
	validUSCC = identitytest.USCC("91440106MA59T0001")
	validID   = identitytest.ResidentID("440106", time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), 7)
)

func validRow() []string {
	return []string{validUSCC, "广州市测试有限公司", "林测试", "resident_id", validID, "active"}
}

func csvOf(rows ...[]string) string {
	var b strings.Builder
	b.WriteString(headerLine)
	for _, row := range rows {
		b.WriteString(strings.Join(row, ","))
		b.WriteString("\n")
	}
	return b.String()
}

func TestSample(t *testing.T) {
	reg, err := Sample()
	if err != nil {
		t.Fatalf("Sample() error = %v", err)
	}
	if reg.Len() < 8 {
		t.Errorf("sample has %d enterprises, want at least 8", reg.Len())
	}

	var deregistered, fullWidthBrackets int
	for uscc, e := range reg.enterprises {
		if e.USCC != uscc {
			t.Errorf("entry under %s has USCC %s", uscc, e.USCC)
		}
		if !e.Active() {
			deregistered++
		}
		if strings.Contains(e.Name, "（") {
			fullWidthBrackets++
		}
	}
	if deregistered == 0 {
		t.Error("sample has no deregistered enterprise")
	}
	if fullWidthBrackets == 0 {
		t.Error("sample has no name with full-width brackets")
	}
}

func TestSampleLookup(t *testing.T) {
	reg, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	e, err := reg.Lookup(context.Background(), "91440106MA59K0001A")
	if err != nil {
		t.Fatalf("Lookup error = %v", err)
	}
	if e.Name != "广州市示例科技有限公司" || e.LegalRep.IDType != identity.ResidentID || e.Status != StatusActive {
		t.Errorf("Lookup = %s, %s, %s; want 广州市示例科技有限公司, resident_id, active", e.Name, e.LegalRep.IDType, e.Status)
	}
}

func TestLookupUnknown(t *testing.T) {
	reg, err := Parse(strings.NewReader(csvOf(validRow())), "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = reg.Lookup(context.Background(), identitytest.USCC("91440106MA59T0002"))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup error = %v, want ErrNotFound", err)
	}
}

func TestOpenSampleFromAnotherDirectory(t *testing.T) {
	// The test runs in registry/, where registry/sample.csv does not exist,
	// as for a binary started outside the repository.
	if _, err := os.Stat(SamplePath); err == nil {
		t.Skip("the working directory has a registry/sample.csv")
	}
	reg, err := Open(SamplePath)
	if err != nil {
		t.Fatalf("Open(%s) error = %v", SamplePath, err)
	}
	if reg.Len() == 0 {
		t.Error("embedded sample is empty")
	}
}

func TestOpenFile(t *testing.T) {
	reg, err := Open("sample.csv")
	if err != nil {
		t.Fatalf("Open error = %v", err)
	}
	embedded, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	if reg.Len() != embedded.Len() {
		t.Errorf("file has %d enterprises, embedded copy %d", reg.Len(), embedded.Len())
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "registry.csv"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open error = %v, want fs.ErrNotExist", err)
	}
}

func TestDefaultRegistryFileIsSample(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RegistryFile != filepath.FromSlash(SamplePath) {
		t.Errorf("default YST_REGISTRY_FILE = %s, want %s", cfg.RegistryFile, SamplePath)
	}
}

func TestParseNormalizes(t *testing.T) {
	row := []string{strings.ToLower(validUSCC), " 广州市测试有限公司 ", "林测试", "", validID, "deregistered"}
	reg, err := Parse(strings.NewReader("\uFEFF"+csvOf(row)), "test")
	if err != nil {
		t.Fatalf("Parse error = %v", err)
	}
	e, err := reg.Lookup(context.Background(), validUSCC)
	if err != nil {
		t.Fatalf("Lookup error = %v", err)
	}
	if e.Name != "广州市测试有限公司" {
		t.Errorf("Name = %q, want it trimmed", e.Name)
	}
	if e.LegalRep.IDType != identity.ResidentID {
		t.Errorf("IDType = %q, want resident_id for an empty column", e.LegalRep.IDType)
	}
	if e.Active() {
		t.Error("deregistered enterprise is active")
	}
}

func TestParseRejectsRow(t *testing.T) {
	with := func(column int, value string) []string {
		row := validRow()
		row[column] = value
		return row
	}
	badCheck := validUSCC[:17] + string(nextUSCCChar(validUSCC[17]))
	badID := validID[:17] + "0"
	if badID == validID {
		badID = validID[:17] + "1"
	}

	tests := []struct {
		name   string
		row    []string
		column string
		value  string
	}{
		{"uscc check character", with(0, badCheck), "uscc", badCheck},
		{"uscc holds an ID number", with(0, validID), "uscc", validID},
		{"empty enterprise name", with(1, " "), "enterprise_name", ""},
		{"invalid representative name", with(2, "林2"), "legal_rep_name", "林2"},
		{"unknown id type", with(3, "passport"), "legal_rep_id_type", "passport"},
		{"id number check character", with(4, badID), "legal_rep_id_number", badID},
		{"id number of another type", with(3, "residence_permit"), "legal_rep_id_number", validID},
		{"unknown status", with(5, "closed"), "status", "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(csvOf(validRow(), tt.row)), "test")
			if err == nil {
				t.Fatal("Parse accepted an invalid row")
			}
			msg := err.Error()
			if !strings.Contains(msg, "line 3") {
				t.Errorf("error %q does not name line 3", msg)
			}
			if !strings.Contains(msg, tt.column) {
				t.Errorf("error %q does not name column %s", msg, tt.column)
			}
			if tt.value != "" && len(tt.value) > 2 && strings.Contains(msg, tt.value) {
				t.Errorf("error %q contains the rejected value", msg)
			}
		})
	}
}

func TestParseRejectsFile(t *testing.T) {
	second := validRow()
	second[4] = identitytest.ResidentID("440106", time.Date(1981, 1, 2, 0, 0, 0, 0, time.UTC), 8)

	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"empty", "", "empty"},
		{"header only", headerLine, "no enterprises"},
		{"wrong header", strings.Replace(csvOf(validRow()), "legal_rep_name", "name", 1), "header"},
		{"repeated uscc", csvOf(validRow(), second), "repeats the one on line 2"},
		{"missing field", headerLine + strings.Join(validRow()[:5], ",") + "\n", "wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.input), "test")
			if err == nil {
				t.Fatal("Parse accepted an invalid file")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestParseListsEveryInvalidRow(t *testing.T) {
	bad := validRow()
	bad[5] = "closed"
	_, err := Parse(strings.NewReader(csvOf(bad, bad, bad)), "test")
	if err == nil {
		t.Fatal("Parse accepted invalid rows")
	}
	for _, line := range []string{"line 2", "line 3", "line 4"} {
		if !strings.Contains(err.Error(), line) {
			t.Errorf("error %q does not name %s", err, line)
		}
	}
}

// nextUSCCChar returns the character after c in the USCC set, wrapping around.
func nextUSCCChar(c byte) byte {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	i := strings.IndexByte(chars, c)
	return chars[(i+1)%len(chars)]
}
