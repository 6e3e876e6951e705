package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/workflows"
)

// newNamespace registers a fresh namespace on the dev server and waits
// until the operator service knows it.
func newNamespace(t *testing.T, c client.Client) string {
	t.Helper()
	ctx := context.Background()
	name := "yst-setup-" + secure.NewID()[:8]
	_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        name,
		WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "namespace "+name+" to be usable", func() bool {
		_, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: name})
		var notFound *serviceerror.NamespaceNotFound
		return err == nil || !errors.As(err, &notFound)
	})
	return name
}

func TestRegisterSearchAttributes_AddsThenKeeps(t *testing.T) {
	dev, err := testenv.StartDevServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dev.Stop)
	c, err := client.Dial(client.Options{HostPort: dev.Addr, Logger: testenv.QuietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx := context.Background()

	t.Run("fresh namespace twice", func(t *testing.T) {
		namespace := newNamespace(t, c)
		var first bytes.Buffer
		if err := registerSearchAttributes(ctx, c.OperatorService(), namespace, &first); err != nil {
			t.Fatalf("first run: %v", err)
		}
		if got := strings.Count(first.String(), " registered\n") - strings.Count(first.String(), "already registered\n"); got != len(workflows.SearchAttributeKeys) {
			t.Errorf("first run registered %d attributes, want %d:\n%s", got, len(workflows.SearchAttributeKeys), first.String())
		}
		var second bytes.Buffer
		if err := registerSearchAttributes(ctx, c.OperatorService(), namespace, &second); err != nil {
			t.Fatalf("second run: %v", err)
		}
		if got := strings.Count(second.String(), "already registered"); got != len(workflows.SearchAttributeKeys) {
			t.Errorf("second run found %d registered, want %d:\n%s", got, len(workflows.SearchAttributeKeys), second.String())
		}

		listed, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range workflows.SearchAttributeKeys {
			if got := listed.GetCustomAttributes()[key.GetName()]; got != key.GetValueType() {
				t.Errorf("%s registered as %s, want %s", key.GetName(), got, key.GetValueType())
			}
		}
	})

	t.Run("conflicting type", func(t *testing.T) {
		namespace := newNamespace(t, c)
		_, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        namespace,
			SearchAttributes: map[string]enumspb.IndexedValueType{"YstUSCC": enumspb.INDEXED_VALUE_TYPE_TEXT},
		})
		if err != nil {
			t.Fatal(err)
		}
		err = registerSearchAttributes(ctx, c.OperatorService(), namespace, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "YstUSCC") {
			t.Fatalf("error = %v, want one naming YstUSCC", err)
		}
	})
}
