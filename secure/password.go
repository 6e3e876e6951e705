package secure

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Argon2id parameters for new password hashes. They are the minimum
// configuration that the OWASP Password Storage Cheat Sheet recommends
// (cheatsheetseries.owasp.org): 19 MiB of memory, 2 iterations and 1 degree
// of parallelism. A hash stores its own parameters, so raising them later
// leaves existing hashes verifiable.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Bounds on the parameters VerifyPassword accepts from a stored hash, so a
// corrupt or planted row cannot make one verification take gigabytes.
const (
	maxArgonTime    = 10
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonThreads = 16
)

// ErrPasswordHash is returned when a stored hash is not one HashPassword made.
var ErrPasswordHash = errors.New("secure: malformed password hash")

// dummyPasswordHash is a hash, with the current parameters, of a random
// password that was never kept. VerifyDummyPassword checks against it so
// that a login with an unknown name takes as long as one with a known name.
// A test fails when the parameters above change without regenerating it.
const dummyPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$mI63nv1f1O8uapXNN2Uvyg$VtjkpoY6bRlRV7QHSxLlxSGziIPdmwPnoJD6NlFSQwE"

// argonSlots bounds concurrent hash computations. Each holds argonMemory
// and a CPU for tens of milliseconds, so a burst of logins queues here
// instead of exhausting memory.
var argonSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// NormalizePassword returns the NFKC form of a password, the form that is
// hashed. NFKC makes the full-width characters that Chinese input methods
// type (Ａ, １, ＠) equal to their ASCII forms.
func NormalizePassword(password string) string {
	return norm.NFKC.String(password)
}

// HashPassword returns the argon2id hash of password in the PHC string
// format, with a random salt. It waits for a free slot or for ctx to end.
func HashPassword(ctx context.Context, password string) (string, error) {
	salt := RandomBytes(argonSaltLen)
	key, err := argonKey(ctx, password, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches a hash made by
// HashPassword, comparing in constant time. It returns ErrPasswordHash for a
// malformed hash and ctx's error when ctx ends while it waits for a slot.
func VerifyPassword(ctx context.Context, encoded, password string) (bool, error) {
	h, err := parsePasswordHash(encoded)
	if err != nil {
		return false, err
	}
	key, err := argonKey(ctx, password, h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// VerifyDummyPassword does the work of one VerifyPassword with the current
// parameters and discards the result. Callers run it when there is no hash
// to check against, so that the response time does not reveal that.
func VerifyDummyPassword(ctx context.Context, password string) error {
	_, err := VerifyPassword(ctx, dummyPasswordHash, password)
	return err
}

func argonKey(ctx context.Context, password string, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	select {
	case argonSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-argonSlots }()
	return argon2.IDKey([]byte(NormalizePassword(password)), salt, time, memory, threads, keyLen), nil
}

type passwordHash struct {
	time, memory uint32
	threads      uint8
	salt, key    []byte
}

// parsePasswordHash reads "$argon2id$v=19$m=…,t=…,p=…$salt$key".
func parsePasswordHash(encoded string) (passwordHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return passwordHash{}, ErrPasswordHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return passwordHash{}, ErrPasswordHash
	}
	var h passwordHash
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &h.threads); err != nil {
		return passwordHash{}, ErrPasswordHash
	}
	if h.time == 0 || h.time > maxArgonTime || h.memory < 8*uint32(max(h.threads, 1)) ||
		h.memory > maxArgonMemory || h.threads == 0 || h.threads > maxArgonThreads {
		return passwordHash{}, ErrPasswordHash
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return passwordHash{}, ErrPasswordHash
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return passwordHash{}, ErrPasswordHash
	}
	return h, nil
}
