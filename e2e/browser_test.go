package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gdyst/accountflows/identity"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/testenv"
)

// newBrowser starts Debian's headless Chromium with a fresh profile and
// returns a chromedp context driving one tab. The test is skipped only
// when no chromium binary is installed.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no chromium binary on PATH: install Debian's with apt-get install -y chromium")
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// textOf returns the text of the element matching the CSS selector.
func textOf(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("reading %s: %v", selector, err)
	}
	return text
}

func TestBrowser_SandboxPassLogsIn(t *testing.T) {
	ctx := newBrowser(t)
	s := testenv.NewStack(t, dev, models.SQLite)
	p := newPerson()
	login := startFaceLogin(t, s, p)

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/sandbox/face/"+login.ProviderToken),
		chromedp.WaitVisible(chromedp.CSS("#pass")),
	)
	if err != nil {
		t.Fatalf("opening the sandbox page: %v", err)
	}
	if name := textOf(t, ctx, "#name"); name != identity.MaskName(p.Name) {
		t.Errorf("page shows name %q, want %q", name, identity.MaskName(p.Name))
	}
	if idNumber := textOf(t, ctx, "#id-number"); idNumber != identity.MaskIDNumber(p.IDNumber) {
		t.Errorf("page shows ID number %q, want %q", idNumber, identity.MaskIDNumber(p.IDNumber))
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#pass"))); err != nil {
		t.Fatalf("pressing 通过: %v", err)
	}
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("result").textContent.includes("核验通过")`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("the page did not confirm the pass: %v (it says %q)", err, textOf(t, ctx, "#result"))
	}

	done := waitForLogin(t, s, login)
	if done.str("status") != "succeeded" || done.str("session.token") == "" {
		t.Fatalf("login is %s (%s) after pressing 通过, want succeeded with a session", done.str("status"), done.str("failure_code"))
	}

	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#result"))); err != nil {
		t.Fatalf("reloading the sandbox page: %v", err)
	}
	if after := textOf(t, ctx, "#result"); !strings.Contains(after, "通过") {
		t.Errorf("reloaded page says %q, want the recorded outcome 通过", after)
	}
}
