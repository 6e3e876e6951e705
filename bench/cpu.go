package bench

import (
	"context"
	"os"
	"sort"
	"time"
)

// Components whose CPU time the driver measures. PostgreSQL is the sum of
// the server processes serving the run's database.
const (
	componentTemporal = "temporal"
	componentPostgres = "postgres"
	componentDriver   = "driver"
)

// cpuSampler reads the CPU time of the stack's processes and of the machine.
type cpuSampler struct {
	processes map[string]func() int // component → current process id
	db        *database
}

// cpuSnapshot is one reading of the sampler.
type cpuSnapshot struct {
	at        time.Time
	machine   time.Duration
	component map[int]string
	byPID     map[int]time.Duration
}

func (s *cpuSampler) snapshot(ctx context.Context) cpuSnapshot {
	snap := cpuSnapshot{at: time.Now(), component: map[int]string{}, byPID: map[int]time.Duration{}}
	snap.machine, _ = machineCPU()
	read := func(component string, pid int) {
		if cpu, err := processCPU(pid); err == nil {
			snap.component[pid], snap.byPID[pid] = component, cpu
		}
	}
	read(componentDriver, os.Getpid())
	for component, pid := range s.processes {
		read(component, pid())
	}
	if s.db != nil {
		pids, _ := s.db.backendPIDs(ctx)
		for _, pid := range pids {
			read(componentPostgres, pid)
		}
	}
	return snap
}

// cpuUsage is the CPU time spent between two snapshots.
type cpuUsage struct {
	Wall        time.Duration
	Machine     time.Duration
	ByComponent map[string]time.Duration
}

// since returns the usage from start to end. A process missing from start,
// such as a database connection opened meanwhile, counts from zero. One
// missing from end is left out, which undercounts closed connections.
func since(start, end cpuSnapshot) cpuUsage {
	u := cpuUsage{Wall: end.at.Sub(start.at), Machine: end.machine - start.machine, ByComponent: map[string]time.Duration{}}
	for pid, cpu := range end.byPID {
		u.ByComponent[end.component[pid]] += cpu - start.byPID[pid]
	}
	return u
}

func (u *cpuUsage) add(v cpuUsage) {
	if u.ByComponent == nil {
		u.ByComponent = map[string]time.Duration{}
	}
	u.Wall += v.Wall
	u.Machine += v.Machine
	for c, d := range v.ByComponent {
		u.ByComponent[c] += d
	}
}

// stack returns the CPU time of all measured components.
func (u cpuUsage) stack() time.Duration {
	var total time.Duration
	for _, d := range u.ByComponent {
		total += d
	}
	return total
}

// others returns the machine's busy time outside the measured processes:
// other people's builds and tests on a shared machine, and the kernel's
// own work. Rounding of the tick counts can make it slightly negative.
func (u cpuUsage) others() time.Duration { return u.Machine - u.stack() }

func (u cpuUsage) components() []string {
	names := make([]string, 0, len(u.ByComponent))
	for c := range u.ByComponent {
		names = append(names, c)
	}
	sort.Strings(names)
	return names
}
