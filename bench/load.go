package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"
)

// flowTimeout bounds one flow, including its polls, so that every loop of
// the driver ends by itself even when the stack stops responding.
const flowTimeout = 60 * time.Second

// flowStats describes one finished flow.
type flowStats struct {
	WorkflowID string
	Polls      int // GET /v1/face-logins/{id} requests the flow needed
}

// maxSamples bounds the workflow IDs kept per slice for the history check.
const maxSamples = 10

// flowFunc runs one flow to its end.
type flowFunc func(ctx context.Context) (flowStats, error)

// stepFailure is a failed step of a flow. Failures are counted by step.
type stepFailure struct {
	step string
	err  error
}

func (e *stepFailure) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepFailure) Unwrap() error { return e.err }

func stepError(step string, err error) error { return &stepFailure{step: step, err: err} }

// sliceResult counts the flows of one measured slice.
type sliceResult struct {
	Window    time.Duration
	Completed int
	Latencies []time.Duration // of the flows completed within the window
	Polls     int             // of the same flows
	Failures  map[string]int  // by step, over the warm-up and the window
	Example   map[string]string
	Samples   []string // workflow IDs of some counted flows
}

// runSlice runs flow in a closed loop on concurrency goroutines until
// measureEnd. A flow counts when it completes between measureStart and
// measureEnd, and the time before measureStart is the warm-up. Flows still
// running at measureEnd finish but do not count, and no new ones start. A
// failed flow is counted by step, and its goroutine pauses 100 ms.
func runSlice(ctx context.Context, concurrency int, measureStart, measureEnd time.Time, flow flowFunc) sliceResult {
	window := measureEnd.Sub(measureStart)
	res := sliceResult{Window: window, Failures: map[string]int{}, Example: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(measureEnd) {
				flowCtx, cancel := context.WithTimeout(ctx, flowTimeout)
				started := time.Now()
				stats, err := flow(flowCtx)
				cancel()
				ended := time.Now()
				mu.Lock()
				switch {
				case err != nil:
					step := "flow"
					var failure *stepFailure
					if errors.As(err, &failure) {
						step = failure.step
					}
					res.Failures[step]++
					if _, ok := res.Example[step]; !ok {
						res.Example[step] = err.Error()
					}
				case !ended.Before(measureStart) && !ended.After(measureEnd):
					res.Completed++
					res.Polls += stats.Polls
					res.Latencies = append(res.Latencies, ended.Sub(started))
					if len(res.Samples) < maxSamples && stats.WorkflowID != "" {
						res.Samples = append(res.Samples, stats.WorkflowID)
					}
				}
				mu.Unlock()
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
				}
			}
		}()
	}
	wg.Wait()
	return res
}

// sideResult adds up the slices of the product or of the baseline.
type sideResult struct {
	Window    time.Duration
	Completed int
	Latencies []time.Duration
	Polls     int
	Failures  map[string]int
	Example   map[string]string
	Samples   []string
	CPU       cpuUsage     // during the measured windows
	History   historyShape // of the sampled workflows
}

func (s *sideResult) add(r sliceResult) {
	s.Window += r.Window
	s.Completed += r.Completed
	s.Latencies = append(s.Latencies, r.Latencies...)
	s.Polls += r.Polls
	s.Samples = append(s.Samples, r.Samples...)
	if s.Failures == nil {
		s.Failures, s.Example = map[string]int{}, map[string]string{}
	}
	for step, n := range r.Failures {
		s.Failures[step] += n
		if _, ok := s.Example[step]; !ok {
			s.Example[step] = r.Example[step]
		}
	}
}

// FlowsPerSecond is the completed flows per second of measured window.
func (s *sideResult) FlowsPerSecond() float64 {
	if s.Window <= 0 {
		return 0
	}
	return float64(s.Completed) / s.Window.Seconds()
}

// failureSummary lists the failures by step with one example message each.
func (s *sideResult) failureSummary() string {
	if len(s.Failures) == 0 {
		return "none"
	}
	steps := make([]string, 0, len(s.Failures))
	for step := range s.Failures {
		steps = append(steps, step)
	}
	sort.Strings(steps)
	out := ""
	for _, step := range steps {
		out += fmt.Sprintf("\n    %d × %s (first: %s)", s.Failures[step], step, truncate(s.Example[step], 200))
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// durations, or 0 when there are none. It sorts durations in place.
func percentile(durations []time.Duration, p float64) time.Duration {
	if len(durations) == 0 {
		return 0
	}
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	rank := int(math.Ceil(float64(len(durations))*p/100)) - 1
	rank = max(0, min(rank, len(durations)-1))
	return durations[rank]
}

// milliseconds converts a duration for printing.
func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
