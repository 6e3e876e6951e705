package metrics

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// temporalBuckets span the SDK's timers, from activity executions of a few
// milliseconds to long polls that the server holds for up to a minute.
var temporalBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// temporalCollector holds one Prometheus metric per SDK metric name and tag
// set. Counters get the suffix _total and timers become histograms in
// seconds with the suffix _seconds, as Prometheus names them.
//
// The SDK attaches different tags to one metric name in different places,
// so the series of one name may have different label names. A checked
// Prometheus collector rejects that, so this one describes nothing up
// front and is registered unchecked.
type temporalCollector struct {
	mu     sync.Mutex
	series map[string]prometheus.Metric
}

func newTemporalCollector() *temporalCollector {
	return &temporalCollector{series: map[string]prometheus.Metric{}}
}

// Describe sends nothing, which makes the collector unchecked.
func (c *temporalCollector) Describe(chan<- *prometheus.Desc) {}

// Collect sends every series created so far.
func (c *temporalCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.series {
		ch <- m
	}
}

// metric returns the series of kind, name and tags, creating it with create
// on first use. tagKey is tagsKey(tags), which the handler computes once.
// The key includes kind, so a counter and a gauge that end up with one name
// get separate series and each caller's type assertion holds.
func (c *temporalCollector) metric(kind, name string, tags map[string]string, tagKey string, create func(prometheus.Opts) prometheus.Metric) prometheus.Metric {
	key := kind + "\x00" + name + tagKey
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.series[key]; ok {
		return m
	}
	labels := prometheus.Labels{}
	for k, v := range tags {
		labels[sanitize(k)] = v
	}
	m := create(prometheus.Opts{
		Name:        name,
		Help:        "Temporal SDK metric " + name + ".",
		ConstLabels: labels,
	})
	c.series[key] = m
	return m
}

// tagsKey encodes tags in key order, so equal tag sets give equal keys.
func tagsKey(tags map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		b.WriteString("\x00")
		b.WriteString(k)
		b.WriteString("\x00")
		b.WriteString(tags[k])
	}
	return b.String()
}

// sanitize makes s a valid Prometheus metric or label name in the classic
// character set, replacing every other character with an underscore.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// temporalHandler implements client.MetricsHandler over a temporalCollector.
type temporalHandler struct {
	collector *temporalCollector
	tags      map[string]string
	tagKey    string // tagsKey(tags), computed once because the SDK calls Counter and Timer on hot paths
}

// WithTags returns a handler whose metrics carry tags on top of the
// handler's own; a key in tags replaces the same key.
func (h *temporalHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &temporalHandler{collector: h.collector, tags: merged, tagKey: tagsKey(merged)}
}

// Counter returns the counter name+"_total" with the handler's tags.
func (h *temporalHandler) Counter(name string) client.MetricsCounter {
	m := h.collector.metric("counter", sanitize(name)+"_total", h.tags, h.tagKey, func(o prometheus.Opts) prometheus.Metric {
		return prometheus.NewCounter(prometheus.CounterOpts(o))
	})
	counter := m.(prometheus.Counter)
	return counterFunc(func(delta int64) {
		// A Prometheus counter panics on a negative delta; the SDK never
		// sends one, but a metrics call must never take a worker down.
		if delta > 0 {
			counter.Add(float64(delta))
		}
	})
}

// Gauge returns the gauge name with the handler's tags.
func (h *temporalHandler) Gauge(name string) client.MetricsGauge {
	m := h.collector.metric("gauge", sanitize(name), h.tags, h.tagKey, func(o prometheus.Opts) prometheus.Metric {
		return prometheus.NewGauge(prometheus.GaugeOpts(o))
	})
	return gaugeFunc(m.(prometheus.Gauge).Set)
}

// Timer returns the histogram name+"_seconds" with the handler's tags.
func (h *temporalHandler) Timer(name string) client.MetricsTimer {
	m := h.collector.metric("timer", sanitize(name)+"_seconds", h.tags, h.tagKey, func(o prometheus.Opts) prometheus.Metric {
		return prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        o.Name,
			Help:        o.Help,
			ConstLabels: o.ConstLabels,
			Buckets:     temporalBuckets,
		})
	})
	histogram := m.(prometheus.Histogram)
	return timerFunc(func(d time.Duration) { histogram.Observe(d.Seconds()) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(delta int64) { f(delta) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(value float64) { f(value) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
