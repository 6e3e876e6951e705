//go:build chaos

package chaos

import (
	"os"
	"testing"
	"time"

	"github.com/gdyst/accountflows/secure"
)

// deployment is yst api and yst worker run as separate processes, as in
// production, on one database, the shared dev server and a task queue of
// their own. The test starts the workers: plainly, or under a supervisor.
type deployment struct {
	env         []string
	databaseURL string
	temporal    string
	api         apiClient
	apiProcess  *process
	enterprise  enterprise
}

// newDeployment migrates the database at databaseURL and starts yst api.
func newDeployment(t *testing.T, databaseURL string, extraEnv ...string) *deployment {
	t.Helper()
	temporal := devServer(t)
	registryFile, e := writeRegistry(t, "广州市韧性测试科技有限公司")
	apiAddr := freeAddr(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"YST_DATABASE_URL=" + databaseURL,
		"YST_TEMPORAL_ADDRESS=" + temporal.Addr,
		"YST_TASK_QUEUE=yst-chaos-" + secure.NewID()[:12],
		"YST_DATA_DIR=" + t.TempDir(),
		"YST_DATA_KEY=" + secure.NewKey(),
		"YST_STAFF_TOKEN=" + secure.NewToken(),
		"YST_FACE_CALLBACK_SECRET=" + secure.NewToken(),
		"YST_REGISTRY_FILE=" + registryFile,
		"YST_FACE_LOGIN_LIMIT_PER_ID=off",
		"YST_FACE_LOGIN_LIMIT_PER_IP=off",
		"YST_HTTP_ADDR=" + apiAddr,
		"YST_PUBLIC_URL=http://" + apiAddr,
	}
	env = append(env, extraEnv...)
	d := &deployment{env: env, databaseURL: databaseURL, temporal: temporal.Addr, api: newAPIClient("http://" + apiAddr), enterprise: e}

	migrate := startYst(t, "yst migrate", env, "migrate")
	if code, err := migrate.stop(nil, time.Minute); err != nil || code != 0 {
		t.Fatalf("yst migrate: exit code %d, %v", code, err)
	}
	d.apiProcess = startYst(t, "yst api", env, "api")
	if err := d.api.waitForReady(200, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return d
}

// workerEnv returns the deployment's environment with extra variables.
func (d *deployment) workerEnv(extra ...string) []string {
	return append(append([]string(nil), d.env...), extra...)
}

// startWorker starts one yst worker that the test stops itself.
func (d *deployment) startWorker(t *testing.T, extraEnv ...string) *process {
	t.Helper()
	return startYst(t, "yst worker", d.workerEnv(extraEnv...), "worker")
}
