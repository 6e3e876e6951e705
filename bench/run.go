// Package bench measures the service against Temporal alone. One run
// starts its own stack (a Temporal dev server, a fresh PostgreSQL
// database, the API and the worker as child processes) and measures, on
// the same server:
//
//   - the product: complete face logins through HTTP;
//   - the baseline: a workflow of the same shape driven by the Temporal SDK
//     alone, with activities that do nothing;
//   - the scale run: many pending agent invitations that expire by their
//     own timers, with the worker's peak memory and how late each expiry
//     lands.
//
// cmd/ystbench is its command and make bench its entry point.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gdyst/accountflows/secure"
)

// Result is everything one run measured.
type Result struct {
	Options  Options
	Cores    int
	MemTotal int64
	Load1    float64 // 1-minute load average before the run
	Product  sideResult
	Baseline sideResult
	Scale    *ScaleResult // nil when BENCH_INVITATIONS is 0
	Profiles []string     // files written to BENCH_PROFILE
}

// OverheadRatio is baseline flows per second over product flows per second.
func (r *Result) OverheadRatio() float64 {
	return r.Baseline.FlowsPerSecond() / r.Product.FlowsPerSecond()
}

// stack is the running system under test.
type stack struct {
	opts      Options
	workDir   string
	db        *database
	temporal  *temporalServer
	env       []string
	taskQueue string
	baseQueue string
	apiURL    string
	api       *child
	worker    *child
	baseline  *child
	tc        client.Client
	// baselineDriver drives the baseline flows and reads their ends.
	baselineDriver *baselineDriver
	// enterprise is the registry's only entry, for the scale run.
	enterprise enterprise
}

// Run runs the benchmark and writes progress and a summary to out. The
// caller prints the final bench: line from the result.
func Run(ctx context.Context, o Options, out io.Writer) (*Result, error) {
	res := &Result{Options: o, Cores: runtime.NumCPU()}
	res.MemTotal, _ = memoryTotal()
	res.Load1, _ = loadAverage()
	fmt.Fprintf(out, "machine: %d cores, %.1f GiB memory, load average (1 min) %.2f before the run\n",
		res.Cores, float64(res.MemTotal)/(1<<30), res.Load1)

	s, err := startStack(ctx, o, out)
	if s != nil {
		defer s.close(err == nil)
	}
	if err != nil {
		return nil, err
	}
	err = s.measureFlows(ctx, res, out)
	if err == nil && o.Invitations > 0 {
		res.Scale, err = s.measureScale(ctx, out)
	}
	return res, err
}

// startStack starts the dev server, the database and the three child
// processes, and waits until the API is ready and both workers poll.
func startStack(ctx context.Context, o Options, out io.Writer) (*stack, error) {
	workDir, err := os.MkdirTemp("", "ystbench-")
	if err != nil {
		return nil, err
	}
	s := &stack{opts: o, workDir: workDir}
	fmt.Fprintf(out, "stack: work directory %s\n", workDir)

	s.db, err = createDatabase(ctx, o.DatabaseURL)
	if err != nil {
		return s, err
	}
	fmt.Fprintf(out, "stack: PostgreSQL database %s on %s\n", s.db.name, redactURL(o.DatabaseURL))

	s.temporal, err = startTemporal(ctx, o.TemporalCLI, workDir, o.TemporalDB)
	if err != nil {
		return s, err
	}
	fmt.Fprintf(out, "stack: Temporal dev server (%s) at %s\n", describeTemporalStore(o.TemporalDB), s.temporal.addr)
	s.tc, err = client.DialContext(ctx, baselineClientOptions(s.temporal.addr, o.BaselineGzip))
	if err != nil {
		return s, err
	}

	s.enterprise = newEnterprise()
	registryFile, err := writeRegistry(workDir, s.enterprise)
	if err != nil {
		return s, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	defer ln.Close()
	s.apiURL = "http://" + ln.Addr().String()
	s.taskQueue = "ystbench-" + secure.NewID()[:12]
	s.baseQueue = "ystbench-baseline-" + secure.NewID()[:12]
	s.env = []string{
		"YST_HTTP_ADDR=" + ln.Addr().String(),
		"YST_PUBLIC_URL=" + s.apiURL,
		"YST_DATA_DIR=" + workDir,
		"YST_DATABASE_URL=" + s.db.url,
		"YST_TEMPORAL_ADDRESS=" + s.temporal.addr,
		"YST_TEMPORAL_NAMESPACE=default",
		"YST_TASK_QUEUE=" + s.taskQueue,
		"YST_REGISTRY_FILE=" + registryFile,
		"YST_FACE_PROVIDER=sandbox",
		"YST_DATA_KEY=" + secure.NewKey(),
		"YST_STAFF_TOKEN=" + secure.NewToken(),
		"YST_FACE_CALLBACK_SECRET=" + secure.NewToken(),
		"YST_FACE_LOGIN_LIMIT_PER_ID=off",
		"YST_FACE_LOGIN_LIMIT_PER_IP=off",
		"YST_INVITATION_TTL=" + o.InvitationTTL.String(),
		"YST_LOG_LEVEL=info",
		"YST_LOG_FORMAT=json",
		envBaselineTaskQueue + "=" + s.baseQueue,
		"BENCH_BASELINE_GZIP=" + onOff(o.BaselineGzip),
	}
	profile := o.ProfileDir != ""
	apiSocket, err := ln.(*net.TCPListener).File()
	if err != nil {
		return s, err
	}
	s.api, err = startChild(RoleAPI, workDir, s.env, []inheritedFile{{envHTTPFD, apiSocket}}, profile)
	apiSocket.Close()
	if err != nil {
		return s, err
	}
	if s.worker, err = startChild(RoleWorker, workDir, s.env, nil, profile); err != nil {
		return s, err
	}
	if err := s.startBaselineWorker(); err != nil {
		return s, err
	}
	if err := s.waitForAPI(ctx); err != nil {
		return s, err
	}
	if err := waitForPollers(ctx, s.tc, s.taskQueue, s.worker); err != nil {
		return s, err
	}
	if err := waitForPollers(ctx, s.tc, s.baseQueue, s.baseline); err != nil {
		return s, err
	}
	fmt.Fprintf(out, "stack: API at %s (pid %d), worker (pid %d) and baseline worker (pid %d) are up\n",
		s.apiURL, s.api.pid(), s.worker.pid(), s.baseline.pid())
	return s, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func describeTemporalStore(store string) string {
	if store == TemporalMemory {
		return "in memory"
	}
	return "SQLite file, WAL, synchronous=normal"
}

// startBaselineWorker starts the baseline's worker process with the write
// end of a pipe on which it reports finished flows to the driver.
func (s *stack) startBaselineWorker() error {
	done, report, err := os.Pipe()
	if err != nil {
		return err
	}
	s.baselineDriver = &baselineDriver{tc: s.tc, taskQueue: s.baseQueue}
	s.baseline, err = startChild(RoleBaselineWorker, s.workDir, s.env, []inheritedFile{{envDoneFD, report}}, false)
	report.Close()
	if err != nil {
		done.Close()
		return err
	}
	go func() {
		defer done.Close()
		s.baselineDriver.readDone(done)
	}()
	return nil
}

// waitForAPI waits until GET /readyz returns 200, for at most 60 s.
func (s *stack) waitForAPI(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.apiURL+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if s.api.exited() {
			return errors.New("the api process exited at start (see api.log in the work directory)")
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return errors.New("the API did not become ready within 60 s (see api.log in the work directory)")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// close stops the processes and drops the database. The work directory
// with the logs stays when the run failed or BENCH_KEEP is set.
func (s *stack) close(succeeded bool) {
	for _, c := range []*child{s.api, s.worker, s.baseline} {
		if c != nil {
			c.stop()
		}
	}
	if s.tc != nil {
		s.tc.Close()
	}
	if s.temporal != nil {
		s.temporal.stop()
	}
	if s.db != nil {
		s.db.drop()
	}
	if succeeded && !s.opts.KeepWorkDir {
		_ = os.RemoveAll(s.workDir)
	} else {
		fmt.Fprintf(os.Stderr, "ystbench: logs kept in %s\n", s.workDir)
	}
}

// cpuSampler returns a sampler of the current stack processes.
func (s *stack) cpuSampler() *cpuSampler {
	procs := map[string]func() int{componentTemporal: s.temporal.pid}
	for _, c := range []*child{s.api, s.worker, s.baseline} {
		procs[c.role] = c.pid
	}
	return &cpuSampler{processes: procs, db: s.db}
}

// measureFlows checks one login end to end, then runs the product and
// baseline slices in the order P B B P P B …
func (s *stack) measureFlows(ctx context.Context, res *Result, out io.Writer) error {
	product := &productDriver{api: newAPIClient(s.apiURL, s.opts.Concurrency), pollInterval: s.opts.PollInterval}
	baseline := s.baselineDriver
	checkCtx, cancel := context.WithTimeout(ctx, flowTimeout)
	token, _, err := product.logIn(checkCtx, newPerson())
	if err == nil {
		err = product.checkSession(checkCtx, token)
	}
	cancel()
	if err != nil {
		return fmt.Errorf("a first face login did not give a working session: %w", err)
	}

	sampler := s.cpuSampler()
	slice := s.opts.sliceDuration()
	fmt.Fprintf(out, "flows: concurrency %d, %d slice(s) of %s per side, warm-up %s before each slice, product polls every %s, baseline gzip %s\n",
		s.opts.Concurrency, s.opts.rounds(), slice, s.opts.Warmup, s.opts.PollInterval, onOff(s.opts.BaselineGzip))
	for round := range s.opts.rounds() {
		order := []bool{true, false}
		if round%2 == 1 {
			order = []bool{false, true}
		}
		for _, isProduct := range order {
			name, side, flow := "baseline", &res.Baseline, flowFunc(baseline.flow)
			if isProduct {
				name, side, flow = "product", &res.Product, product.flow
			}
			profile := isProduct && round == 0 && s.opts.ProfileDir != ""
			r, usage, files := s.runMeasuredSlice(ctx, sampler, flow, slice, profile)
			side.add(r)
			side.CPU.add(usage)
			res.Profiles = append(res.Profiles, files...)
			fmt.Fprintf(out, "  round %d %-8s %6.1f flows/s (%d flows, %d failed), machine busy %.2f of %d cores\n",
				round+1, name, float64(r.Completed)/r.Window.Seconds(), r.Completed, failures(r.Failures),
				usage.Machine.Seconds()/usage.Wall.Seconds(), res.Cores)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	for _, side := range []*sideResult{&res.Product, &res.Baseline} {
		if side.History, err = readHistoryShape(ctx, s.tc, side.Samples); err != nil {
			return err
		}
	}
	return nil
}

func failures(byStep map[string]int) int {
	n := 0
	for _, c := range byStep {
		n += c
	}
	return n
}

// runMeasuredSlice runs one slice with its warm-up and reads the CPU
// times at the start and end of its measured window. With profile set it
// takes CPU profiles of the API and the worker over that window.
func (s *stack) runMeasuredSlice(ctx context.Context, sampler *cpuSampler, flow flowFunc, window time.Duration, profile bool) (sliceResult, cpuUsage, []string) {
	measureStart := time.Now().Add(s.opts.Warmup)
	measureEnd := measureStart.Add(window)
	var usage cpuUsage
	var files []string
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		if !sleepUntil(ctx, measureStart) {
			return
		}
		start := sampler.snapshot(ctx)
		var profiled chan []string
		if profile {
			profiled = make(chan []string, 1)
			go func() { profiled <- s.takeProfiles(ctx, window) }()
		}
		if !sleepUntil(ctx, measureEnd) {
			return
		}
		usage = since(start, sampler.snapshot(ctx))
		if profiled != nil {
			files = <-profiled
		}
	}()
	r := runSlice(ctx, s.opts.Concurrency, measureStart, measureEnd, flow)
	<-sampled
	return r, usage, files
}

// sleepUntil waits until t and reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Until(t)):
		return true
	}
}

// takeProfiles fetches CPU profiles of the API and the worker over
// window, at the same time, into BENCH_PROFILE.
func (s *stack) takeProfiles(ctx context.Context, window time.Duration) []string {
	if err := os.MkdirAll(s.opts.ProfileDir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "ystbench: unable to create %s: %v\n", s.opts.ProfileDir, err)
		return nil
	}
	seconds := max(1, int(window.Seconds()))
	type fetched struct {
		path string
		err  error
	}
	results := make(chan fetched, 2)
	procs := []*child{s.api, s.worker}
	for _, c := range procs {
		go func() {
			path := filepath.Join(s.opts.ProfileDir, c.role+".cpu.pprof")
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", c.pprofAddr, seconds)
			results <- fetched{path, fetchToFile(ctx, url, path, window+30*time.Second)}
		}()
	}
	var files []string
	for range procs {
		r := <-results
		if r.err != nil {
			fmt.Fprintf(os.Stderr, "ystbench: unable to take the profile %s: %v\n", r.path, r.err)
			continue
		}
		files = append(files, r.path)
	}
	return files
}

// fetchToFile saves the body of GET url to path.
func fetchToFile(ctx context.Context, url, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// measureScale replaces the workers by one fresh worker process, whose
// peak memory then covers only the scale run, creates the invitations and
// waits for them to expire.
func (s *stack) measureScale(ctx context.Context, out io.Writer) (*ScaleResult, error) {
	o := s.opts
	r := &ScaleResult{Requested: o.Invitations, TTL: o.InvitationTTL}
	s.worker.stop()
	s.baseline.stop()
	var err error
	if s.worker, err = startChild(RoleWorker, s.workDir, s.env, nil, false); err != nil {
		return nil, err
	}
	if err := waitForPollers(ctx, s.tc, s.taskQueue, s.worker); err != nil {
		return nil, err
	}
	r.WorkerRSSIdle, _ = memoryStatus(s.worker.pid(), "VmRSS")

	driver := &productDriver{api: newAPIClient(s.apiURL, o.Concurrency), pollInterval: o.PollInterval}
	setupCtx, cancel := context.WithTimeout(ctx, 2*flowTimeout)
	accountID, session, err := certifiedSession(setupCtx, driver, s.enterprise)
	cancel()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "scale: creating %d agent invitations (TTL %s) at concurrency %d\n", o.Invitations, o.InvitationTTL, o.Concurrency)
	started := time.Now()
	r.Created, r.CreateFailed, r.FirstFailure = createInvitations(ctx, driver.api, accountID, session, o.Invitations, o.Concurrency)
	r.CreateTime = time.Since(started)
	if r.PendingPeak, err = countPending(ctx, s.db); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "scale: %d created in %.1fs (%.1f/s), %d failed, %d pending; waiting for the expiries\n",
		r.Created, r.CreateTime.Seconds(), r.CreatePerSecond(), r.CreateFailed, r.PendingPeak)

	if err := waitForExpiries(ctx, s.db, 2*time.Minute); err != nil {
		return nil, err
	}
	late, other, err := expiryLateness(ctx, s.db)
	if err != nil {
		return nil, err
	}
	r.Expired, r.NotExpired = len(late), other
	r.LateP50, r.LateP99, r.LateMax = percentile(late, 50), percentile(late, 99), percentile(late, 100)
	r.WorkerPeakRSS, _ = memoryStatus(s.worker.pid(), "VmHWM")
	r.TemporalRSS, _ = memoryStatus(s.temporal.pid(), "VmHWM")
	return r, nil
}
