// Package activities owns every side effect of the flows: database writes
// through models.Store and calls to the face-verification provider. Each
// activity is idempotent, so a retry or a replay changes nothing twice.
package activities

import (
	"errors"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
)

// Activities holds the dependencies of every activity; the worker registers
// one value of it.
type Activities struct {
	store    *models.Store
	provider face.Provider
}

// New returns the activities over store and provider.
func New(store *models.Store, provider face.Provider) (*Activities, error) {
	if store == nil || provider == nil {
		return nil, errors.New("activities: New needs a store and a face provider")
	}
	return &Activities{store: store, provider: provider}, nil
}
