// Package secure owns the service's cryptography: encryption of personal
// data at rest, keyed hashes for lookups, random tokens and the subkeys that
// all of them derive from YST_DATA_KEY.
package secure

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the length in bytes of YST_DATA_KEY and of every derived key.
const KeySize = 32

// ErrDecrypt is returned when a ciphertext is malformed, was sealed under
// an unknown key or fails authentication.
var ErrDecrypt = errors.New("secure: unable to decrypt")

// Keyring holds the keys derived from the current data key and from the
// previous ones, which are kept only to decrypt data sealed before a rotation.
type Keyring struct {
	current  keySet
	previous []keySet
}

type keySet struct {
	id      string // first 8 hex digits of SHA-256 over the master key
	seal    cipher.AEAD
	payload cipher.AEAD
	lookup  []byte
	token   []byte
}

// NewKeyring derives the subkeys of master and of each previous master key.
// Every key must be KeySize bytes.
func NewKeyring(master []byte, previous ...[]byte) (*Keyring, error) {
	current, err := deriveKeySet(master)
	if err != nil {
		return nil, err
	}
	ring := &Keyring{current: current}
	for _, key := range previous {
		set, err := deriveKeySet(key)
		if err != nil {
			return nil, err
		}
		ring.previous = append(ring.previous, set)
	}
	return ring, nil
}

// ParseKey decodes a base64 (standard or URL alphabet) key of KeySize bytes.
func ParseKey(encoded string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(encoded)
		if err == nil && len(key) == KeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("secure: key must be base64 of %d bytes", KeySize)
}

// NewKey returns a fresh random key, base64 encoded.
func NewKey() string {
	return base64.StdEncoding.EncodeToString(RandomBytes(KeySize))
}

func deriveKeySet(master []byte) (keySet, error) {
	if len(master) != KeySize {
		return keySet{}, fmt.Errorf("secure: key must be %d bytes, got %d", KeySize, len(master))
	}
	derive := func(purpose string) []byte {
		key, err := hkdf.Key(sha256.New, master, nil, "yst/"+purpose, KeySize)
		if err != nil {
			panic(err) // hkdf.Key fails only for lengths far above KeySize.
		}
		return key
	}
	seal, err := newAEAD(derive("at-rest"))
	if err != nil {
		return keySet{}, err
	}
	payload, err := newAEAD(derive("temporal-payload"))
	if err != nil {
		return keySet{}, err
	}
	sum := sha256.Sum256(master)
	return keySet{
		id:      hex.EncodeToString(sum[:4]),
		seal:    seal,
		payload: payload,
		lookup:  derive("lookup-hash"),
		token:   derive("token"),
	}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secure: unable to create cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// KeyID names the current key; sealed data carries it so that old keys can
// still open what they sealed.
func (k *Keyring) KeyID() string { return k.current.id }

// Seal encrypts plaintext for storage. The associated data binds the
// ciphertext to its column, so a value copied into another column fails to open.
func (k *Keyring) Seal(plaintext []byte, associated string) []byte {
	return seal(k.current.seal, k.current.id, plaintext, []byte(associated))
}

// Open decrypts what Seal produced under the current or a previous key.
func (k *Keyring) Open(sealed []byte, associated string) ([]byte, error) {
	return k.open(sealed, []byte(associated), func(s keySet) cipher.AEAD { return s.seal })
}

// SealPayload encrypts a Temporal payload; it uses its own subkey.
func (k *Keyring) SealPayload(plaintext []byte) []byte {
	return seal(k.current.payload, k.current.id, plaintext, nil)
}

// OpenPayload decrypts what SealPayload produced.
func (k *Keyring) OpenPayload(sealed []byte) ([]byte, error) {
	return k.open(sealed, nil, func(s keySet) cipher.AEAD { return s.payload })
}

// sealed layout: key id (8 ASCII hex digits) | nonce | ciphertext with tag.
func seal(aead cipher.AEAD, id string, plaintext, associated []byte) []byte {
	out := make([]byte, 0, len(id)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out = append(out, id...)
	nonce := RandomBytes(aead.NonceSize())
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, associated)
}

func (k *Keyring) open(sealed, associated []byte, pick func(keySet) cipher.AEAD) ([]byte, error) {
	const idLen = 8
	if len(sealed) < idLen {
		return nil, ErrDecrypt
	}
	id := string(sealed[:idLen])
	for _, set := range append([]keySet{k.current}, k.previous...) {
		if set.id != id {
			continue
		}
		aead := pick(set)
		rest := sealed[idLen:]
		if len(rest) < aead.NonceSize()+aead.Overhead() {
			return nil, ErrDecrypt
		}
		plaintext, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], associated)
		if err != nil {
			return nil, ErrDecrypt
		}
		return plaintext, nil
	}
	return nil, ErrDecrypt
}

// LookupHash returns the keyed hash (HMAC-SHA256, hex) used to find a row by
// a personal value without storing the value in clear. The hash always uses
// the current key, so rotating YST_DATA_KEY requires rehashing stored rows.
func (k *Keyring) LookupHash(parts ...string) string {
	mac := hmac.New(sha256.New, k.current.lookup)
	for _, part := range parts {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// DeriveToken returns a bearer token derived from a secret the client holds.
// Face login uses it so the session token can be handed out again on every
// poll without storing the token itself anywhere.
func (k *Keyring) DeriveToken(purpose, secret string) string {
	mac := hmac.New(sha256.New, k.current.token)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// RandomBytes returns n bytes from the operating system's CSPRNG.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("secure: random source failed: %v", err))
	}
	return b
}

// NewToken returns 256 random bits, base64url encoded without padding.
func NewToken() string {
	return base64.RawURLEncoding.EncodeToString(RandomBytes(32))
}

// NewID returns a 128-bit random identifier as 32 lowercase hex digits. IDs
// appear in URLs and workflow IDs, so they carry no personal data.
func NewID() string {
	return hex.EncodeToString(RandomBytes(16))
}

// HashToken returns the SHA-256 of a high-entropy token, hex encoded. Tokens
// have at least 128 random bits, so an unkeyed hash is enough to store them.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Equal compares two strings in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
