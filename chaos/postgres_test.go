//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"

	"github.com/gdyst/accountflows/models"
)

// cluster is a throwaway PostgreSQL cluster that a test starts, stops and
// starts again from the local binaries, on a port of its own, so that the
// machine's shared server is never touched.
type cluster struct {
	bin  string
	dir  string
	port int
	// credential runs the server as user postgres when the test runs as
	// root, because PostgreSQL refuses to run as root.
	credential *syscall.Credential
}

// startCluster initialises and starts a cluster. It fails the test, naming
// what to install, when no PostgreSQL binaries are found.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Fatal("the outage test needs the PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
	}
	sort.Slice(bins, func(i, j int) bool { return pgVersion(bins[i]) < pgVersion(bins[j]) })
	c := &cluster{bin: filepath.Dir(bins[len(bins)-1]), port: freePort(t)}

	// Not t.TempDir: its parents are private to the test's user, and the
	// server may run as another one.
	dir, err := os.MkdirTemp("", "yst-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		_ = c.pgCtl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		c.credential = postgresCredential(t)
		if err := os.Chown(dir, int(c.credential.Uid), int(c.credential.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.run(filepath.Join(c.bin, "initdb"), "-D", c.dataDir(), "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		t.Fatal(err)
	}
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	admin, _, err := models.Open(c.url("postgres"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if sqlDB, err := admin.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}()
	if err := admin.Exec("CREATE DATABASE yst").Error; err != nil {
		t.Fatal(err)
	}
	return c
}

func pgVersion(pgCtl string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(pgCtl))))
	return v
}

func postgresCredential(t *testing.T) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("the outage test runs as root and needs the user postgres to run the server: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func (c *cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// url returns the URL of database on this cluster.
func (c *cluster) url(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, database)
}

// run runs a PostgreSQL program as the server's user.
func (c *cluster) run(program string, args ...string) error {
	cmd := exec.Command(program, args...)
	cmd.Dir = c.dir
	if c.credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.credential}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", filepath.Base(program), args, err, out)
	}
	return nil
}

func (c *cluster) pgCtl(args ...string) error {
	return c.run(filepath.Join(c.bin, "pg_ctl"), append([]string{"-D", c.dataDir(), "-w", "-t", "60"}, args...)...)
}

// start starts the server on 127.0.0.1 only, with its socket in the
// cluster's directory.
func (c *cluster) start() error {
	options := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.port, c.dir)
	return c.pgCtl("-o", options, "-l", filepath.Join(c.dir, "server.log"), "start")
}

// stop stops the server in fast mode: it ends open sessions at once, rolls
// back their transactions and refuses new connections.
func (c *cluster) stop() error { return c.pgCtl("-m", "fast", "stop") }

// logTail returns the end of the server's log, for failure messages.
func (c *cluster) logTail() string {
	raw, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	if len(raw) > outputTail {
		raw = raw[len(raw)-outputTail:]
	}
	return string(raw)
}
