package secure_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gdyst/accountflows/secure"
)

func mustKeyring(t *testing.T, previous ...[]byte) (*secure.Keyring, []byte) {
	t.Helper()
	key, err := secure.ParseKey(secure.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secure.NewKeyring(key, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return ring, key
}

func TestKeyring_SealOpenRoundTrip(t *testing.T) {
	ring, _ := mustKeyring(t)
	sealed := ring.Seal([]byte("440106199001021230"), "persons.id_number")
	if bytes.Contains(sealed, []byte("440106199001021230")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := ring.Open(sealed, "persons.id_number")
	if err != nil || string(got) != "440106199001021230" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestKeyring_OpenRejectsOtherColumn(t *testing.T) {
	ring, _ := mustKeyring(t)
	sealed := ring.Seal([]byte("张伟"), "persons.name")
	if _, err := ring.Open(sealed, "persons.id_number"); !errors.Is(err, secure.ErrDecrypt) {
		t.Fatalf("Open with other associated data: err = %v, want ErrDecrypt", err)
	}
}

func TestKeyring_OpenRejectsTampering(t *testing.T) {
	ring, _ := mustKeyring(t)
	sealed := ring.Seal([]byte("value"), "ad")
	sealed[len(sealed)-1] ^= 1
	if _, err := ring.Open(sealed, "ad"); !errors.Is(err, secure.ErrDecrypt) {
		t.Fatalf("tampered: err = %v, want ErrDecrypt", err)
	}
	for _, junk := range [][]byte{nil, []byte("short"), []byte("0123456789")} {
		if _, err := ring.Open(junk, "ad"); !errors.Is(err, secure.ErrDecrypt) {
			t.Errorf("Open(%q): err = %v, want ErrDecrypt", junk, err)
		}
	}
}

func TestKeyring_RotationKeepsOldDataReadable(t *testing.T) {
	old, oldKey := mustKeyring(t)
	sealed := old.Seal([]byte("value"), "ad")
	payload := old.SealPayload([]byte("payload"))

	rotated, _ := mustKeyring(t, oldKey)
	if rotated.KeyID() == old.KeyID() {
		t.Fatal("a new key has the old key's id")
	}
	if got, err := rotated.Open(sealed, "ad"); err != nil || string(got) != "value" {
		t.Errorf("Open after rotation = %q, %v", got, err)
	}
	if got, err := rotated.OpenPayload(payload); err != nil || string(got) != "payload" {
		t.Errorf("OpenPayload after rotation = %q, %v", got, err)
	}
	withoutOld, _ := mustKeyring(t)
	if _, err := withoutOld.Open(sealed, "ad"); !errors.Is(err, secure.ErrDecrypt) {
		t.Errorf("Open without the old key: err = %v, want ErrDecrypt", err)
	}
}

func TestKeyring_LookupHashIsKeyed(t *testing.T) {
	a, _ := mustKeyring(t)
	b, _ := mustKeyring(t)
	if first, again := a.LookupHash("person", "x"), a.LookupHash("person", "x"); first != again {
		t.Error("lookup hash is not deterministic")
	}
	if a.LookupHash("person", "x") == b.LookupHash("person", "x") {
		t.Error("lookup hash does not depend on the key")
	}
	if a.LookupHash("ab", "c") == a.LookupHash("a", "bc") {
		t.Error("lookup hash parts are ambiguous")
	}
}

func TestParseKey_RejectsWrongLength(t *testing.T) {
	for _, bad := range []string{"", "c2hvcnQ=", "not base64!"} {
		if _, err := secure.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

func TestNewToken_HasEnoughEntropy(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		token := secure.NewToken()
		if len(token) < 43 || seen[token] {
			t.Fatalf("token %q is short or repeated", token)
		}
		seen[token] = true
	}
}
