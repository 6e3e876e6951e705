// Package activities owns every side effect of the flows: database writes
// through models.Store and calls to the face-verification provider. Each
// activity is idempotent, so a retry or a replay changes nothing twice.
package activities

import (
	"errors"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
)

// Activities holds the dependencies of every activity; the worker registers
// one value of it.
type Activities struct {
	store    *models.Store
	provider face.Provider

	// FlowEnded, when set, is called after an activity has stored the end
	// of a flow, with the flow's kind (the first part of its workflow ID)
	// and its final status. The worker counts outcomes with it.
	// NOTE: flows that the Sweeper expires are not reported.
	FlowEnded func(kind, status string)

	// Registry is the enterprise registry the certification-request
	// activities read the legal representative from. Without it they fail.
	Registry registry.Registry
}

// New returns the activities over store and provider.
func New(store *models.Store, provider face.Provider) (*Activities, error) {
	if store == nil || provider == nil {
		return nil, errors.New("activities: New needs a store and a face provider")
	}
	return &Activities{store: store, provider: provider}, nil
}

// flowEnded calls FlowEnded if it is set. It is unexported so that the
// worker does not register it as an activity.
func (a *Activities) flowEnded(kind, status string) {
	if a.FlowEnded != nil {
		a.FlowEnded(kind, status)
	}
}
