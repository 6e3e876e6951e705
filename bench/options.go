package bench

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Temporal dev server stores, chosen with BENCH_TEMPORAL_DB.
const (
	TemporalMemory = "memory"
	TemporalSQLite = "sqlite"
)

// Options bound one benchmark run. Every field comes from the BENCH_*
// environment variable named beside it.
type Options struct {
	Duration    time.Duration // BENCH_DURATION: measured time of the product and of the baseline
	Concurrency int           // BENCH_CONCURRENCY: flows in flight at once, for each side

	// Warmup runs flows before each measured slice and does not count them.
	Warmup time.Duration // BENCH_WARMUP
	// Slice is the longest measured slice. Each side's Duration is split
	// into equal slices of at most Slice. They run in the order P B B P P B …
	// (product, baseline), so a change in background load falls on both
	// sides alike.
	Slice time.Duration // BENCH_SLICE
	// PollInterval is the pause between two GET /v1/face-logins/{id} of one flow.
	PollInterval time.Duration // BENCH_POLL_INTERVAL

	Invitations   int           // BENCH_INVITATIONS: pending agent invitations of the scale run, or 0 to skip it
	InvitationTTL time.Duration // BENCH_INVITATION_TTL: YST_INVITATION_TTL of the scale run

	TemporalDB string // BENCH_TEMPORAL_DB: memory, or sqlite (a WAL-mode file)
	// BaselineGzip keeps the SDK's default gzip compression of requests in
	// the baseline's client and worker. The product turns it off.
	BaselineGzip bool // BENCH_BASELINE_GZIP: on or off
	// ProfileDir, when set, receives CPU profiles of the API and the worker
	// taken during the first measured product slice.
	ProfileDir string // BENCH_PROFILE
	// DatabaseURL names the PostgreSQL server. Each run creates and drops a
	// database of its own there.
	DatabaseURL string // YST_TEST_DATABASE_URL
	TemporalCLI string // YST_TEMPORAL_CLI
	KeepWorkDir bool   // BENCH_KEEP: keep the logs and the Temporal file after a successful run
}

// DefaultDatabaseURL is the PostgreSQL server used when YST_TEST_DATABASE_URL is empty.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// LoadOptions reads the options through getenv and reports every invalid value.
func LoadOptions(getenv func(string) string) (Options, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	duration := func(name, def string, allowZero bool) time.Duration {
		raw := get(name, def)
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 || (d == 0 && !allowZero) {
			errs = append(errs, fmt.Errorf("%s: invalid duration %q, expected a positive Go duration such as 30s", name, raw))
		}
		return d
	}
	integer := func(name, def string, minimum int) int {
		raw := get(name, def)
		n, err := strconv.Atoi(raw)
		if err != nil || n < minimum {
			errs = append(errs, fmt.Errorf("%s: invalid value %q, expected an integer of at least %d", name, raw, minimum))
		}
		return n
	}
	o := Options{
		Duration:      duration("BENCH_DURATION", "30s", false),
		Concurrency:   integer("BENCH_CONCURRENCY", "32", 1),
		Warmup:        duration("BENCH_WARMUP", "2s", true),
		Slice:         duration("BENCH_SLICE", "2500ms", false),
		PollInterval:  duration("BENCH_POLL_INTERVAL", "100ms", false),
		Invitations:   integer("BENCH_INVITATIONS", "10000", 0),
		InvitationTTL: duration("BENCH_INVITATION_TTL", "5m", false),
		TemporalDB:    get("BENCH_TEMPORAL_DB", TemporalSQLite),
		BaselineGzip:  get("BENCH_BASELINE_GZIP", "on") == "on",
		ProfileDir:    get("BENCH_PROFILE", ""),
		DatabaseURL:   get("YST_TEST_DATABASE_URL", DefaultDatabaseURL),
		TemporalCLI:   get("YST_TEMPORAL_CLI", "bin/temporal"),
		KeepWorkDir:   get("BENCH_KEEP", "") != "",
	}
	if o.TemporalDB != TemporalMemory && o.TemporalDB != TemporalSQLite {
		errs = append(errs, fmt.Errorf("BENCH_TEMPORAL_DB: invalid value %q, expected memory or sqlite", o.TemporalDB))
	}
	if v := get("BENCH_BASELINE_GZIP", "on"); v != "on" && v != "off" {
		errs = append(errs, fmt.Errorf("BENCH_BASELINE_GZIP: invalid value %q, expected on or off", v))
	}
	if o.Slice > 0 && o.Slice < time.Second {
		errs = append(errs, errors.New("BENCH_SLICE: slices shorter than 1s measure mostly their edges; use at least 1s"))
	}
	return o, errors.Join(errs...)
}

// rounds is the number of slices of each side.
func (o Options) rounds() int {
	return int((o.Duration + o.Slice - 1) / o.Slice)
}

// sliceDuration is the measured length of one product or baseline slice.
func (o Options) sliceDuration() time.Duration {
	return o.Duration / time.Duration(o.rounds())
}
