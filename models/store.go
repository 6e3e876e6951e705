package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/secure"
)

// Store reads and changes the service's data. Its methods are safe to retry:
// each write either changes a row that is still in the expected state or
// does nothing, so a retried activity changes nothing twice.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	keys    *secure.Keyring
	now     func() time.Time
}

// NewStore wraps an open database. keys seals personal values.
func NewStore(db *gorm.DB, dialect Dialect, keys *secure.Keyring) (*Store, error) {
	if db == nil || keys == nil {
		return nil, errors.New("models: NewStore needs a database and a keyring")
	}
	return &Store{db: db, dialect: dialect, keys: keys, now: func() time.Time { return time.Now().UTC() }}, nil
}

// DB exposes the handle for health checks and tests.
func (s *Store) DB() *gorm.DB { return s.db }

// Dialect returns the database dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Keys returns the keyring the store seals with.
func (s *Store) Keys() *secure.Keyring { return s.keys }

// Identity is a person's identity document and name, in clear. It exists
// only in memory and in encrypted Temporal payloads.
type Identity struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

// LookupHash is the keyed hash that finds a person by document.
func (s *Store) LookupHash(idType, idNumber string) string {
	return s.keys.LookupHash("person", idType, idNumber)
}

// Column names passed as associated data, binding each sealed value to its column.
const (
	adIDNumber = "persons.id_number"
	adName     = "persons.name"
)

// PersonName decrypts a person's name.
func (s *Store) PersonName(p Person) (string, error) {
	b, err := s.keys.Open(p.NameEnc, adName)
	return string(b), err
}

// PersonIDNumber decrypts a person's ID number.
func (s *Store) PersonIDNumber(p Person) (string, error) {
	b, err := s.keys.Open(p.IDNumberEnc, adIDNumber)
	return string(b), err
}

// Person returns the person with id.
func (s *Store) Person(ctx context.Context, id string) (Person, error) {
	var p Person
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&p).Error
	return p, notFound(err)
}

// PersonByIdentity finds a person by ID type and number.
func (s *Store) PersonByIdentity(ctx context.Context, idType, idNumber string) (Person, error) {
	var p Person
	err := s.db.WithContext(ctx).Where("id_hash = ?", s.LookupHash(idType, idNumber)).Take(&p).Error
	return p, notFound(err)
}

// ensurePerson returns the person with the identity, creating the row on
// first sight. The unique id_hash makes concurrent first logins agree.
func (s *Store) ensurePerson(tx *gorm.DB, who Identity) (Person, error) {
	hash := s.LookupHash(who.IDType, who.IDNumber)
	now := s.now()
	p := Person{
		ID:             secure.NewID(),
		IDType:         who.IDType,
		IDHash:         hash,
		IDNumberEnc:    s.keys.Seal([]byte(who.IDNumber), adIDNumber),
		IDNumberMasked: identity.MaskIDNumber(who.IDNumber),
		NameEnc:        s.keys.Seal([]byte(who.Name), adName),
		NameMasked:     identity.MaskName(who.Name),
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id_hash"}}, DoNothing: true}).Create(&p).Error
	if err != nil {
		return Person{}, fmt.Errorf("unable to insert person: %w", err)
	}
	var stored Person
	if err := tx.Where("id_hash = ?", hash).Take(&stored).Error; err != nil {
		return Person{}, fmt.Errorf("unable to read person: %w", err)
	}
	return stored, nil
}

// insertIgnoringDuplicate inserts row unless a row with the same primary key
// exists, which makes creation activities safe to retry.
func insertIgnoringDuplicate(tx *gorm.DB, row any) error {
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(row).Error
}

// insertOrConflict inserts row and returns conflict when a unique index
// rejects it. Callers check first that the primary key is new, so the index
// that rejects the row is the one allowing a single open flow.
func insertOrConflict(tx *gorm.DB, row any, conflict error) error {
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(row)
	if res.Error != nil {
		return fmt.Errorf("unable to insert %T: %w", row, res.Error)
	}
	if res.RowsAffected == 0 {
		return conflict
	}
	return nil
}
