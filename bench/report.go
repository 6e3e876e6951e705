package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteSummary prints every figure of the run, for people and for
// docs/benchmarks.md. No line starts with "bench:", which only the final
// line does.
func (r *Result) WriteSummary(out io.Writer) {
	for _, side := range []struct {
		name string
		s    *sideResult
	}{{"product", &r.Product}, {"baseline", &r.Baseline}} {
		s := side.s
		latencies := append([]time.Duration(nil), s.Latencies...)
		fmt.Fprintf(out, "%s: %.1f flows/s (%d flows in %s), latency p50 %.0f ms, p99 %.0f ms, max %.0f ms",
			side.name, s.FlowsPerSecond(), s.Completed, s.Window.Round(time.Millisecond),
			milliseconds(percentile(latencies, 50)), milliseconds(percentile(latencies, 99)), milliseconds(percentile(latencies, 100)))
		if side.name == "product" && s.Completed > 0 {
			fmt.Fprintf(out, ", %.1f polls per flow", float64(s.Polls)/float64(s.Completed))
		}
		fmt.Fprintf(out, "\n  failures: %s\n", s.failureSummary())
		fmt.Fprintf(out, "  CPU per flow (ms): %s\n", cpuPerFlow(s))
		fmt.Fprintf(out, "  history per flow: %s\n", s.History)
	}
	if p, b := r.Product, r.Baseline; p.Completed > 0 && b.Completed > 0 {
		perFlow := func(s sideResult) float64 { return milliseconds(s.CPU.stack()) / float64(s.Completed) }
		fmt.Fprintf(out, "CPU per flow, product over baseline: %.3f (the overhead ratio if CPU time were the only limit)\n",
			perFlow(p)/perFlow(b))
	}
	if sc := r.Scale; sc != nil {
		fmt.Fprintf(out, "scale: %d of %d agent invitations created in %.1fs (%.1f/s, %d failed), %d pending at once, TTL %s\n",
			sc.Created, sc.Requested, sc.CreateTime.Seconds(), sc.CreatePerSecond(), sc.CreateFailed, sc.PendingPeak, sc.TTL)
		if sc.PendingPeak < int64(sc.Created) {
			fmt.Fprintf(out, "  NOTE: creation took longer than the TTL, so the first invitations expired before the last were created. Raise BENCH_INVITATION_TTL to have all of them pending at once.\n")
		}
		if sc.FirstFailure != "" {
			fmt.Fprintf(out, "  first failure: %s\n", truncate(sc.FirstFailure, 300))
		}
		fmt.Fprintf(out, "  expiry after the deadline (expires_at to ended_at): p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d expired; %d not expired\n",
			milliseconds(sc.LateP50), milliseconds(sc.LateP99), milliseconds(sc.LateMax), sc.Expired, sc.NotExpired)
		fmt.Fprintf(out, "  worker resident memory: %.0f MiB idle, %.0f MiB peak (VmHWM); Temporal dev server peak %.0f MiB\n",
			mebibytes(sc.WorkerRSSIdle), mebibytes(sc.WorkerPeakRSS), mebibytes(sc.TemporalRSS))
	}
	for _, path := range r.Profiles {
		fmt.Fprintf(out, "profile: %s\n", path)
	}
}

// cpuPerFlow lists each component's CPU time per completed flow, then the
// machine's busy time outside the stack over the same windows.
func cpuPerFlow(s *sideResult) string {
	if s.Completed == 0 || s.CPU.Wall <= 0 {
		return "no flows"
	}
	per := func(d time.Duration) float64 { return milliseconds(d) / float64(s.Completed) }
	var parts []string
	for _, c := range s.CPU.components() {
		if d := s.CPU.ByComponent[c]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1f", c, per(d)))
		}
	}
	parts = append(parts, fmt.Sprintf("total %.1f", per(s.CPU.stack())))
	others := max(0, s.CPU.others().Seconds()/s.CPU.Wall.Seconds())
	return strings.Join(parts, ", ") + fmt.Sprintf(". Other processes used %.2f cores meanwhile", others)
}

func mebibytes(b int64) float64 { return float64(b) / (1 << 20) }

// Line is the final line of make bench, in the format acceptance checks read.
func (r *Result) Line() string {
	latencies := append([]time.Duration(nil), r.Product.Latencies...)
	return fmt.Sprintf("bench: product_flows_per_s=%.1f baseline_flows_per_s=%.1f overhead_ratio=%.3f p50_ms=%.0f p99_ms=%.0f",
		r.Product.FlowsPerSecond(), r.Baseline.FlowsPerSecond(), r.OverheadRatio(),
		milliseconds(percentile(latencies, 50)), milliseconds(percentile(latencies, 99)))
}
