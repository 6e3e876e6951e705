#!/usr/bin/env bash
# Runs every go test -fuzz target of the module for FUZZTIME each (a Go
# duration, default 30s), then prints one line per target with the
# executions it ran. It exits 1 when a target found a failing input, which
# go test writes to the package's testdata/fuzz/<target> directory: keep
# that file, it is the regression test for the bug.
#
# Go 1.26's fuzzing coordinator sometimes ends a clean run with a bare
# "context deadline exceeded" at the end of -fuzztime and writes no input.
# Such a run is reported as a warning, not a failure.
#
# FUZZMINIMIZETIME (default 3s) bounds the minimisation of each new input.
# Go's default of 60s lets one slow target spend most of its FUZZTIME
# minimising, with no new inputs run meanwhile.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-3s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

failed=0
summary=()
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
	pkg="./${dir#./}"
	for target in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		corpus="$dir/testdata/fuzz/$target"
		before=$(ls "$corpus" 2>/dev/null | wc -l)
		echo "fuzz: $pkg $target for $FUZZTIME"
		$GO test "$pkg" -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime="$FUZZMINIMIZETIME" 2>&1 | tee "$log"
		status=${PIPESTATUS[0]}
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
		result=ok
		if [ "$status" -ne 0 ]; then
			after=$(ls "$corpus" 2>/dev/null | wc -l)
			if [ "$after" -eq "$before" ] && grep -q '^    context deadline exceeded$' "$log" &&
				[ "$(grep -c -- '--- FAIL' "$log")" -eq 1 ]; then
				result="ok (the coordinator's deadline error, no failing input)"
				echo "fuzz: warning: $target ended with context deadline exceeded and wrote no input" >&2
			else
				result=FAILED
				failed=1
				echo "fuzz: $target failed; a failing input, if one was found, is in $corpus" >&2
			fi
		fi
		summary+=("$pkg $target execs=${execs:-0} $result")
	done
done

echo "fuzz: summary ($FUZZTIME per target)"
printf '  %s\n' "${summary[@]}"
exit $failed
