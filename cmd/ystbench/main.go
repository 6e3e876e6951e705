// Command ystbench runs the service's benchmarks: face logins through the
// HTTP API against the same Temporal work driven by the SDK alone, and a
// scale run of pending agent invitations. make bench runs it, and the
// BENCH_* variables (see package bench and docs/benchmarks.md) bound a
// run. It ends by printing one line:
//
//	bench: product_flows_per_s=… baseline_flows_per_s=… overhead_ratio=… p50_ms=… p99_ms=…
//
// "ystbench child ROLE" runs one process of the stack it starts. Only the
// benchmark itself calls it that way.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gdyst/accountflows/bench"
)

func main() {
	os.Exit(run())
}

// run returns the exit status: 0 after a run, 1 when the run failed and 2
// for invalid arguments or settings.
func run() int {
	if len(os.Args) == 3 && os.Args[1] == "child" {
		return bench.RunChild(os.Args[2])
	}
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: ystbench\nIt takes no arguments. BENCH_DURATION, BENCH_CONCURRENCY, BENCH_INVITATIONS and the other BENCH_* variables in docs/benchmarks.md configure a run.")
		return 2
	}
	opts, err := bench.LoadOptions(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ystbench:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.Run(ctx, opts, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ystbench:", err)
		return 1
	}
	res.WriteSummary(os.Stdout)
	fmt.Println(res.Line())
	return 0
}
