package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gdyst/accountflows/app"
	"github.com/gdyst/accountflows/identity/identitytest"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

// workerStopBound bounds how long yst worker may take to stop: the SDK
// worker's 10 s WorkerStopTimeout for activities in flight, plus margin.
const workerStopBound = 15 * time.Second

var (
	buildOnce sync.Once
	binDir    string
	ystPath   string
	buildErr  error

	devOnce sync.Once
	dev     *testenv.DevServer
	devErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	dev.Stop()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// ystBinary builds cmd/yst once per test run and returns its path.
func ystBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "yst-deploy-test-")
		if buildErr != nil {
			return
		}
		ystPath = filepath.Join(binDir, "yst")
		cmd := exec.Command("go", "build", "-o", ystPath, "./cmd/yst")
		cmd.Dir = testenv.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/yst: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return ystPath
}

// devServer starts the Temporal dev server on first use.
func devServer(t *testing.T) *testenv.DevServer {
	t.Helper()
	devOnce.Do(func() { dev, devErr = testenv.StartDevServer() })
	if devErr != nil {
		t.Fatal(devErr)
	}
	return dev
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a running yst command.
type process struct {
	cmd    *exec.Cmd
	output *lockedBuffer
	exited chan struct{}
	err    error
}

// startYst runs yst with args and exactly the environment env, and kills
// it at the end of the test if it is still running.
func startYst(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(ystBinary(t), args...), output: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("output of yst %s:\n%s", strings.Join(args, " "), p.output.String())
		}
	})
	return p
}

// wait returns the exit code once the process has exited, or fails the
// test after timeout.
func (p *process) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("yst %s still runs after %s", strings.Join(p.cmd.Args[1:], " "), timeout)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get sends GET url and returns the status and body; status 0 means the
// request failed.
func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var missingVariable = regexp.MustCompile(`YST_[A-Z_]+ is missing`)

func TestYst_WithoutConfigurationNamesMissingVariable(t *testing.T) {
	for _, command := range []string{"api", "worker"} {
		t.Run(command, func(t *testing.T) {
			p := startYst(t, []string{}, command)
			if code := p.wait(t, 30*time.Second); code == 0 {
				t.Fatalf("yst %s without configuration exited 0, want an error", command)
			}
			if out := p.output.String(); !missingVariable.MatchString(out) {
				t.Errorf("yst %s without configuration printed %q, want the name of a missing YST_ variable", command, out)
			}
		})
	}
}

func TestYst_ProcessesServeAndStopGracefully(t *testing.T) {
	temporal := devServer(t)
	apiAddr, metricsAddr := freeAddr(t), freeAddr(t)
	env := []string{
		"YST_DATABASE_URL=" + testenv.PostgresURL(t),
		"YST_TEMPORAL_ADDRESS=" + temporal.Addr,
		"YST_TASK_QUEUE=yst-test-" + secure.NewID()[:12],
		"YST_DATA_DIR=" + t.TempDir(),
		"YST_DATA_KEY=" + secure.NewKey(),
		"YST_STAFF_TOKEN=" + secure.NewToken() + secure.NewToken(),
		"YST_FACE_CALLBACK_SECRET=" + secure.NewToken() + secure.NewToken(),
		"YST_FACE_LOGIN_LIMIT_PER_ID=off",
		"YST_FACE_LOGIN_LIMIT_PER_IP=off",
		"YST_HTTP_ADDR=" + apiAddr,
		"YST_PUBLIC_URL=http://" + apiAddr,
		"YST_METRICS_ADDR=" + metricsAddr,
	}
	if code := startYst(t, env, "migrate").wait(t, time.Minute); code != 0 {
		t.Fatalf("yst migrate exited %d", code)
	}
	worker := startYst(t, env, "worker")
	api := startYst(t, env, "api")
	testenv.Eventually(t, 30*time.Second, "yst api to be ready", func() bool {
		status, _ := get("http://" + apiAddr + "/readyz")
		return status == http.StatusOK
	})
	testenv.Eventually(t, 30*time.Second, "yst worker to serve /healthz", func() bool {
		status, _ := get("http://" + metricsAddr + "/healthz")
		return status == http.StatusOK
	})

	token := startLogin(t, "http://"+apiAddr)
	checkMetrics(t, "http://"+apiAddr+"/metrics",
		`yst_http_requests_total{method="POST",route="/v1/face-logins",status="201"} 1`,
		"temporal_request_total{")
	// The worker's client polls and the login's first step ran on it.
	checkMetrics(t, "http://"+metricsAddr+"/metrics",
		"temporal_long_request_total{",
		"temporal_workflow_task_execution_latency_seconds_bucket{")

	// A request in flight when SIGTERM arrives still gets its response.
	slow := testenv.StartSlowRequest(t, apiAddr, http.MethodPost, "/sandbox/face/"+token, []byte(`{"outcome":"pass"}`))
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := api.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-api.exited:
		t.Fatal("yst api exited while a request was still in flight")
	case <-time.After(500 * time.Millisecond):
	}
	status, err := slow.Finish()
	if err != nil || status != http.StatusNoContent {
		t.Errorf("request in flight during SIGTERM: status %d, %v; want 204", status, err)
	}
	if code := api.wait(t, app.ShutdownTimeout); code != 0 {
		t.Errorf("yst api exited %d after SIGTERM, want 0", code)
	}
	if elapsed := time.Since(start); elapsed >= app.ShutdownTimeout {
		t.Errorf("yst api took %s to stop, want less than %s", elapsed, app.ShutdownTimeout)
	}
	if !strings.Contains(api.output.String(), `"api stopped"`) {
		t.Error(`yst api did not log "api stopped"`)
	}

	if err := worker.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := worker.wait(t, workerStopBound); code != 0 {
		t.Errorf("yst worker exited %d after SIGTERM, want 0", code)
	}
	if !strings.Contains(worker.output.String(), `"worker stopped"`) {
		t.Error(`yst worker did not log "worker stopped"`)
	}
}

// startLogin starts a face login on the API at baseURL and returns the
// verification's provider token.
func startLogin(t *testing.T, baseURL string) string {
	t.Helper()
	body := fmt.Sprintf(`{"name":"张伟","id_number":%q}`, identitytest.RandomResidentID(rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))))
	resp, err := http.Post(baseURL+"/v1/face-logins", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/face-logins: status %d: %s", resp.StatusCode, raw)
	}
	token := regexp.MustCompile(`"provider_token":"([^"]+)"`).FindSubmatch(raw)
	if token == nil {
		t.Fatalf("POST /v1/face-logins returned no provider_token: %s", raw)
	}
	return string(token[1])
}

// checkMetrics fails the test unless GET url returns every line fragment
// in want.
func checkMetrics(t *testing.T, url string, want ...string) {
	t.Helper()
	status, body := get(url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, status)
	}
	for _, fragment := range want {
		if !strings.Contains(body, fragment) {
			t.Errorf("GET %s lacks %s", url, fragment)
		}
	}
}
