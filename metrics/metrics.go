// Package metrics owns the service's Prometheus metrics: HTTP requests by
// route, flow outcomes by kind, the Temporal SDK's own metrics and the Go
// runtime's. Each process builds one Metrics with its own registry, so two
// stacks in one test process never share counters.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
)

// Metrics holds the registry and the service's own collectors.
type Metrics struct {
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	flowOutcomes    *prometheus.CounterVec
	temporal        *temporalCollector
}

// New returns Metrics over a new registry that also holds the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yst_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "yst_http_request_duration_seconds",
			Help:    "Time from the first middleware to the end of the handler, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		flowOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yst_flow_outcomes_total",
			Help: "Flows ended by an activity, by flow kind and final status. An activity retried after its completion was lost counts again.",
		}, []string{"kind", "status"}),
		temporal: newTemporalCollector(),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests,
		m.requestDuration,
		m.flowOutcomes,
		m.temporal,
	)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Gatherer returns the registry, for tests that read a value.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.registry }

// ObserveRequest counts one served request. route must be the route
// pattern (such as /v1/face-logins/:id), never the request path, so that
// tokens in URLs never become label values.
func (m *Metrics) ObserveRequest(route, method string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}

// CountFlowOutcome counts one flow of kind that ended with status.
func (m *Metrics) CountFlowOutcome(kind, status string) {
	m.flowOutcomes.WithLabelValues(kind, status).Inc()
}

// TemporalHandler returns the handler to set as client.Options.MetricsHandler,
// so that the SDK's client and worker metrics land in this registry.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	return &temporalHandler{collector: m.temporal}
}
