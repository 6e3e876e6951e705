package secure

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	ctx := context.Background()
	hash, err := HashPassword(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", argonMemory, argonTime, argonThreads)) {
		t.Errorf("hash %q does not state the current parameters", hash)
	}

	ok, err := VerifyPassword(ctx, hash, "correct horse battery")
	if err != nil || !ok {
		t.Errorf("VerifyPassword(right password) = %v, %v; want true", ok, err)
	}
	ok, err = VerifyPassword(ctx, hash, "correct horse batterY")
	if err != nil || ok {
		t.Errorf("VerifyPassword(wrong password) = %v, %v; want false", ok, err)
	}
}

func TestHashPasswordSaltsEachHash(t *testing.T) {
	ctx := context.Background()
	a, err := HashPassword(ctx, "same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := HashPassword(ctx, "same password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two hashes of one password are equal")
	}
}

func TestVerifyPasswordFullWidth(t *testing.T) {
	ctx := context.Background()
	hash, err := HashPassword(ctx, "Abc123@guangzhou")
	if err != nil {
		t.Fatal(err)
	}
	ok, err := VerifyPassword(ctx, hash, "Ａｂｃ１２３＠ｇｕａｎｇｚｈｏｕ")
	if err != nil || !ok {
		t.Errorf("full-width spelling: VerifyPassword = %v, %v; want true", ok, err)
	}
}

func TestDummyPasswordHashHasCurrentParameters(t *testing.T) {
	h, err := parsePasswordHash(dummyPasswordHash)
	if err != nil {
		t.Fatalf("dummy hash is malformed: %v", err)
	}
	if h.time != argonTime || h.memory != argonMemory || h.threads != argonThreads || len(h.key) != argonKeyLen {
		t.Errorf("dummy hash has m=%d,t=%d,p=%d and %d-byte key; regenerate it with HashPassword",
			h.memory, h.time, h.threads, len(h.key))
	}
	if err := VerifyDummyPassword(context.Background(), "anything"); err != nil {
		t.Errorf("VerifyDummyPassword error = %v", err)
	}
}

func TestVerifyPasswordRejectsMalformedHash(t *testing.T) {
	valid := dummyPasswordHash
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"},
		{"argon2i", strings.Replace(valid, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(valid, "v=19", "v=16", 1)},
		{"memory too large", strings.Replace(valid, "m=19456", "m=4194304", 1)},
		{"zero iterations", strings.Replace(valid, "t=2", "t=0", 1)},
		{"zero lanes", strings.Replace(valid, "p=1", "p=0", 1)},
		{"bad salt", strings.Replace(valid, "$mI63", "$!!!!", 1)},
		{"missing key", valid[:strings.LastIndex(valid, "$")]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyPassword(context.Background(), tt.encoded, "password")
			if !errors.Is(err, ErrPasswordHash) {
				t.Errorf("VerifyPassword error = %v, want ErrPasswordHash", err)
			}
		})
	}
}

func TestHashPasswordHonoursContext(t *testing.T) {
	// Fill every slot so that the call has to wait, then cancel it.
	for range cap(argonSlots) {
		argonSlots <- struct{}{}
	}
	defer func() {
		for range cap(argonSlots) {
			<-argonSlots
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := HashPassword(ctx, "password"); !errors.Is(err, context.Canceled) {
		t.Errorf("HashPassword error = %v, want context.Canceled", err)
	}
}
