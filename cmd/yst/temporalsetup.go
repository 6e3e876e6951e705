package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/workflows"
)

// temporalSetup registers the flows' custom search attributes on the
// cluster and namespace of cfg. yst dev registers them on its own dev
// server, and a real cluster needs this once before the first worker starts.
func temporalSetup(ctx context.Context, cfg config.Config, out io.Writer) error {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    quietLogger{},
	})
	if err != nil {
		return fmt.Errorf("unable to connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	return registerSearchAttributes(ctx, c.OperatorService(), cfg.TemporalNamespace, out)
}

// registerSearchAttributes adds every attribute of
// workflows.SearchAttributeKeys that namespace lacks. It is safe to repeat:
// an attribute already registered with the same type is left alone. One
// registered with another type is an error, because the flows could not
// set it.
func registerSearchAttributes(ctx context.Context, ops operatorservice.OperatorServiceClient, namespace string, out io.Writer) error {
	existing, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("unable to list the search attributes of namespace %s: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, key := range workflows.SearchAttributeKeys {
		name, want := key.GetName(), key.GetValueType()
		have, ok := existing.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = want
		case have != want:
			return fmt.Errorf("search attribute %s is registered in namespace %s as %s, but the flows need %s: remove it or use another namespace",
				name, namespace, have, want)
		default:
			fmt.Fprintf(out, "%-24s %-9s already registered\n", name, want)
		}
	}
	if len(missing) == 0 {
		return nil
	}

	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("unable to add search attributes to namespace %s: %w", namespace, err)
	}
	// AlreadyExists means that another run added them between the list and
	// the add. The next run checks their types.
	for _, key := range workflows.SearchAttributeKeys {
		if want, ok := missing[key.GetName()]; ok {
			fmt.Fprintf(out, "%-24s %-9s registered\n", key.GetName(), want)
		}
	}
	return nil
}
