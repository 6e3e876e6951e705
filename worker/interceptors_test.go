//go:build !chaos

package worker

import "testing"

func TestNew_HasNoCrashSwitchWithoutChaosTag(t *testing.T) {
	if len(interceptors) != 0 {
		t.Errorf("a build without the chaos tag installs %d worker interceptors, want 0", len(interceptors))
	}
}
