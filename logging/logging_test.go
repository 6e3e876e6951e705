package logging

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestSnakeCase_TemporalKeys(t *testing.T) {
	cases := map[string]string{
		"WorkflowID":    "workflow_id",
		"ActivityType":  "activity_type",
		"RunID":         "run_id",
		"Namespace":     "namespace",
		"TaskQueue":     "task_queue",
		"already_snake": "already_snake",
	}
	for in, want := range cases {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTemporalLogger_WithAddsFields(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	l := NewTemporalLogger(zap.New(core)).With("WorkflowID", "face-login/1")
	l.Info("started", "Attempt", 2, "dangling")

	entries := logs.All()
	if len(entries) != 1 {
		t.Fatalf("%d entries, want 1", len(entries))
	}
	fields := entries[0].ContextMap()
	if fields["workflow_id"] != "face-login/1" {
		t.Errorf("workflow_id = %v", fields["workflow_id"])
	}
	if fields["attempt"] != int64(2) {
		t.Errorf("attempt = %v (%T)", fields["attempt"], fields["attempt"])
	}
	if fields["component"] != "temporal" {
		t.Errorf("component = %v", fields["component"])
	}
	if fields["extra"] != "dangling" {
		t.Errorf("a key without a value was lost: %v", fields)
	}
}

func TestNew_RejectsUnknownLevel(t *testing.T) {
	if _, err := New("loud", "json"); err == nil {
		t.Fatal("accepted level loud")
	}
}
