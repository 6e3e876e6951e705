package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// family returns the gathered metric family called name, or nil.
func family(t *testing.T, m *Metrics, name string) *dto.MetricFamily {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// labelsOf returns the label pairs of a series as a map.
func labelsOf(series *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, pair := range series.GetLabel() {
		out[pair.GetName()] = pair.GetValue()
	}
	return out
}

func TestObserveRequest_CountsByRoute(t *testing.T) {
	m := New()
	m.ObserveRequest("/v1/face-logins/:id", "GET", 200, 20*time.Millisecond)
	m.ObserveRequest("/v1/face-logins/:id", "GET", 200, 30*time.Millisecond)
	m.ObserveRequest("/v1/face-logins/:id", "GET", 404, time.Millisecond)

	requests := family(t, m, "yst_http_requests_total")
	if requests == nil {
		t.Fatal("yst_http_requests_total is missing")
	}
	counts := map[string]float64{}
	for _, series := range requests.GetMetric() {
		labels := labelsOf(series)
		if labels["route"] != "/v1/face-logins/:id" || labels["method"] != "GET" {
			t.Errorf("unexpected labels %v", labels)
		}
		counts[labels["status"]] = series.GetCounter().GetValue()
	}
	if counts["200"] != 2 || counts["404"] != 1 {
		t.Errorf("counts by status = %v, want 200:2 and 404:1", counts)
	}

	duration := family(t, m, "yst_http_request_duration_seconds")
	if duration == nil || len(duration.GetMetric()) != 1 {
		t.Fatalf("yst_http_request_duration_seconds has %d series, want 1", len(duration.GetMetric()))
	}
	if got := duration.GetMetric()[0].GetHistogram().GetSampleCount(); got != 3 {
		t.Errorf("latency sample count = %d, want 3", got)
	}
}

func TestCountFlowOutcome_ByKindAndStatus(t *testing.T) {
	m := New()
	m.CountFlowOutcome("face-login", "succeeded")
	m.CountFlowOutcome("face-login", "succeeded")
	m.CountFlowOutcome("face-login", "expired")

	outcomes := family(t, m, "yst_flow_outcomes_total")
	if outcomes == nil {
		t.Fatal("yst_flow_outcomes_total is missing")
	}
	got := map[string]float64{}
	for _, series := range outcomes.GetMetric() {
		labels := labelsOf(series)
		got[labels["kind"]+" "+labels["status"]] = series.GetCounter().GetValue()
	}
	if got["face-login succeeded"] != 2 || got["face-login expired"] != 1 {
		t.Errorf("outcomes = %v, want 2 succeeded and 1 expired face logins", got)
	}
}

func TestTemporalHandler_NamesAndTags(t *testing.T) {
	m := New()
	h := m.TemporalHandler().WithTags(map[string]string{"namespace": "default"})
	h.WithTags(map[string]string{"task_queue": "q"}).Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"task_queue": "q"}).Counter("temporal_request").Inc(1)
	h.Gauge("temporal_num_pollers").Update(4)
	h.Timer("temporal_request_latency").Record(150 * time.Millisecond)

	counter := family(t, m, "temporal_request_total")
	if counter == nil || len(counter.GetMetric()) != 1 {
		t.Fatal("temporal_request_total is missing or split into several series")
	}
	if got := counter.GetMetric()[0].GetCounter().GetValue(); got != 3 {
		t.Errorf("temporal_request_total = %v, want 3", got)
	}
	labels := labelsOf(counter.GetMetric()[0])
	if labels["namespace"] != "default" || labels["task_queue"] != "q" {
		t.Errorf("counter labels = %v, want namespace and task_queue from both WithTags calls", labels)
	}
	if g := family(t, m, "temporal_num_pollers"); g == nil || g.GetMetric()[0].GetGauge().GetValue() != 4 {
		t.Error("gauge temporal_num_pollers is missing or not 4")
	}
	timer := family(t, m, "temporal_request_latency_seconds")
	if timer == nil || timer.GetMetric()[0].GetHistogram().GetSampleSum() != 0.15 {
		t.Error("timer temporal_request_latency_seconds is missing or its sum is not 0.15 s")
	}
}

func TestTemporalHandler_WithTagsOverridesAndIsolates(t *testing.T) {
	m := New()
	base := m.TemporalHandler().WithTags(map[string]string{"operation": "A"})
	derived := base.WithTags(map[string]string{"operation": "B"})
	derived.Counter("temporal_request").Inc(1)
	base.Counter("temporal_request").Inc(1)

	counter := family(t, m, "temporal_request_total")
	if counter == nil || len(counter.GetMetric()) != 2 {
		t.Fatal("want one series for operation A and one for operation B")
	}
	for _, series := range counter.GetMetric() {
		if got := series.GetCounter().GetValue(); got != 1 {
			t.Errorf("series %v = %v, want 1", labelsOf(series), got)
		}
	}
}

func TestTemporalHandler_DifferentLabelNamesForOneName(t *testing.T) {
	m := New()
	h := m.TemporalHandler()
	h.WithTags(map[string]string{"namespace": "default"}).Counter("temporal_long_request").Inc(1)
	h.WithTags(map[string]string{"namespace": "default", "operation": "PollWorkflowTaskQueue"}).Counter("temporal_long_request").Inc(1)

	counter := family(t, m, "temporal_long_request_total")
	if counter == nil || len(counter.GetMetric()) != 2 {
		t.Fatal("want both series of temporal_long_request_total despite their different label names")
	}
}

func TestTemporalHandler_IgnoresNegativeCounterDelta(t *testing.T) {
	m := New()
	c := m.TemporalHandler().Counter("temporal_request")
	c.Inc(-1)
	c.Inc(1)
	if got := family(t, m, "temporal_request_total").GetMetric()[0].GetCounter().GetValue(); got != 1 {
		t.Errorf("temporal_request_total = %v, want 1", got)
	}
}

func TestTemporalHandler_SanitizesNames(t *testing.T) {
	m := New()
	m.TemporalHandler().WithTags(map[string]string{"task-queue": "q"}).Counter("temporal.request").Inc(1)
	counter := family(t, m, "temporal_request_total")
	if counter == nil {
		t.Fatal("temporal.request was not exported as temporal_request_total")
	}
	if labels := labelsOf(counter.GetMetric()[0]); labels["task_queue"] != "q" {
		t.Errorf("labels = %v, want task-queue renamed to task_queue", labels)
	}
}

func TestHandler_ServesPrometheusText(t *testing.T) {
	m := New()
	m.ObserveRequest("/healthz", "GET", 200, time.Millisecond)
	m.TemporalHandler().Counter("temporal_request").Inc(1)

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", ct)
	}
	for _, want := range []string{
		`yst_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		"temporal_request_total 1",
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics output lacks %q", want)
		}
	}
}

func TestNew_RegistriesAreSeparate(t *testing.T) {
	first, second := New(), New()
	first.CountFlowOutcome("face-login", "succeeded")
	if family(t, second, "yst_flow_outcomes_total") != nil {
		t.Error("a count in one Metrics shows up in another")
	}
}
