package api

import (
	"sync"
	"time"

	"github.com/gdyst/accountflows/config"
)

// window counts events per key in a sliding window, in memory. It bounds one
// API process; the per-ID limit is also checked against the database, which
// holds across processes and restarts.
type window struct {
	limit config.RateLimit
	mu    sync.Mutex
	hits  map[string][]time.Time
	swept time.Time
}

func newWindow(limit config.RateLimit) *window {
	return &window{limit: limit, hits: make(map[string][]time.Time)}
}

// allow records an event for key at now and reports whether it is within
// the limit. Rejected events are not recorded.
func (w *window) allow(key string, now time.Time) bool {
	if w.limit.Off() {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	cutoff := now.Add(-w.limit.Window)
	if now.Sub(w.swept) > w.limit.Window {
		for k, times := range w.hits {
			if len(times) == 0 || !times[len(times)-1].After(cutoff) {
				delete(w.hits, k)
			}
		}
		w.swept = now
	}
	times := w.hits[key]
	kept := times[:0]
	for _, t := range times {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	if len(kept) >= w.limit.Count {
		w.hits[key] = kept
		return false
	}
	w.hits[key] = append(kept, now)
	return true
}

type limiters struct {
	perID *window
	perIP *window
}

func newLimiters(perID, perIP config.RateLimit) *limiters {
	return &limiters{perID: newWindow(perID), perIP: newWindow(perIP)}
}
