package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gdyst/accountflows/testenv"
)

// instruction is one Dockerfile instruction with its arguments.
type instruction struct {
	Command string
	Args    string
}

// dockerfileStages returns the instructions of each build stage of the
// Dockerfile, in order. Continuation lines are joined.
func dockerfileStages(t *testing.T) [][]instruction {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	var stages [][]instruction
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		command, args, _ := strings.Cut(line, " ")
		in := instruction{Command: strings.ToUpper(command), Args: strings.TrimSpace(args)}
		if in.Command == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before the first FROM", in.Command)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s), want a build stage and a runtime stage", len(stages))
	}
	return stages
}

func TestDockerfile_FinalStageRunsAsNonRoot(t *testing.T) {
	stages := dockerfileStages(t)
	final := stages[len(stages)-1]
	user := ""
	for _, in := range final {
		if in.Command == "USER" {
			user = in.Args
		}
	}
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == "root" || name == "0" {
		t.Errorf("the final stage runs as %q, want a non-root user", user)
	}
}

func TestDockerfile_FinalStageHoldsOnlyYst(t *testing.T) {
	stages := dockerfileStages(t)
	final := stages[len(stages)-1]
	var copies []string
	entrypoint := ""
	for _, in := range final {
		switch in.Command {
		case "COPY", "ADD":
			copies = append(copies, in.Args)
		case "ENTRYPOINT":
			entrypoint = in.Args
		case "RUN":
			t.Errorf("the final stage runs %q; its base image has no shell", in.Args)
		}
	}
	if len(copies) != 1 || !strings.HasPrefix(copies[0], "--from=") || !strings.HasSuffix(copies[0], "/usr/local/bin/yst") {
		t.Errorf("the final stage copies %v, want only the built yst to /usr/local/bin/yst", copies)
	}
	if entrypoint != `["/usr/local/bin/yst"]` {
		t.Errorf("ENTRYPOINT %s, want [\"/usr/local/bin/yst\"]", entrypoint)
	}
	for _, service := range []string{"api", "worker"} {
		health := loadCompose(t).Services[service].Healthcheck
		if health == nil || !slices.Contains(health.Test, "/usr/local/bin/yst") {
			t.Errorf("the %s health check does not run the image's /usr/local/bin/yst", service)
		}
	}
}

func TestDockerfile_BuildsStaticTrimmedBinary(t *testing.T) {
	stages := dockerfileStages(t)
	var build string
	for _, stage := range stages[:len(stages)-1] {
		for _, in := range stage {
			if in.Command == "RUN" && strings.Contains(in.Args, "go build") {
				build = in.Args
			}
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/yst"} {
		if !strings.Contains(build, want) {
			t.Errorf("the go build step %q lacks %s", build, want)
		}
	}
}

func TestDockerignore_KeepsSecretsAndDataOut(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	for _, want := range []string{".env", ".data", ".git", "bin"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}
