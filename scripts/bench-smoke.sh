#!/usr/bin/env bash
# Runs make bench for a few seconds at low concurrency and checks only that
# its last line is the bench: line with positive numbers. It checks no
# speed, so a slow or busy machine passes.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT
BENCH_DURATION=3s BENCH_CONCURRENCY=4 BENCH_WARMUP=1s BENCH_INVITATIONS=50 BENCH_INVITATION_TTL=10s \
	make --no-print-directory bench | tee "$out"

line=$(tail -n 1 "$out")
number='([0-9]+(\.[0-9]+)?)'
pattern="^bench: product_flows_per_s=$number baseline_flows_per_s=$number overhead_ratio=$number p50_ms=$number p99_ms=$number\$"
if ! [[ $line =~ $pattern ]]; then
	echo "bench-smoke: the last line is not the bench: line: $line" >&2
	exit 1
fi
for i in 1 3 5 7 9; do
	if ! awk -v n="${BASH_REMATCH[$i]}" 'BEGIN { exit !(n > 0) }'; then
		echo "bench-smoke: a figure of the bench: line is not positive: $line" >&2
		exit 1
	fi
done
echo "bench-smoke: ok"
