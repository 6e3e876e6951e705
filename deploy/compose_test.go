package deploy

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gdyst/accountflows/app"
	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

// composeFile is the part of docker-compose.yml the tests read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image           string                       `yaml:"image"`
	Build           any                          `yaml:"build"`
	Command         []string                     `yaml:"command"`
	Entrypoint      []string                     `yaml:"entrypoint"`
	Environment     map[string]string            `yaml:"environment"`
	Ports           []string                     `yaml:"ports"`
	Volumes         []string                     `yaml:"volumes"`
	DependsOn       map[string]composeDependency `yaml:"depends_on"`
	Healthcheck     *composeHealthcheck          `yaml:"healthcheck"`
	Restart         string                       `yaml:"restart"`
	StopGracePeriod string                       `yaml:"stop_grace_period"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test []string `yaml:"test"`
}

// loadCompose parses docker-compose.yml at the repository root.
func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	return f
}

// loadEnvExample returns the NAME=value lines of .env.example.
func loadEnvExample(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.RepoRoot(), ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf(".env.example: line %q is not NAME=value", line)
		}
		vars[name] = value
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return vars
}

// reference is one ${NAME…} interpolation in docker-compose.yml.
var reference = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate expands ${NAME}, ${NAME:-default} and ${NAME:?message} as
// docker compose does, with vars standing for the .env file.
func interpolate(s string, vars map[string]string) (string, error) {
	var missing []string
	out := reference.ReplaceAllStringFunc(s, func(ref string) string {
		m := reference.FindStringSubmatch(ref)
		name, operator, arg := m[1], m[2], m[3]
		value, set := vars[name]
		switch {
		case strings.HasSuffix(operator, "-") && (!set || value == "" && operator == ":-"):
			return arg
		case strings.HasSuffix(operator, "?") && (!set || value == "" && operator == ":?"):
			missing = append(missing, name)
		}
		return value
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("required variables are empty: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// exampleSecrets returns .env.example with every empty value filled in as
// the command in README.md fills it.
func exampleSecrets(t *testing.T) map[string]string {
	t.Helper()
	vars := loadEnvExample(t)
	for name, value := range vars {
		if value != "" {
			continue
		}
		switch {
		case name == "YST_DATA_KEY":
			vars[name] = secure.NewKey()
		case strings.HasPrefix(name, "POSTGRES_"):
			vars[name] = "0123456789abcdef0123456789abcdef"
		default:
			vars[name] = secure.NewToken() + secure.NewToken()
		}
	}
	return vars
}

// serviceEnvironment returns the environment of a service after
// interpolation with the filled-in .env.example.
func serviceEnvironment(t *testing.T, f composeFile, service string) map[string]string {
	t.Helper()
	s, ok := f.Services[service]
	if !ok {
		t.Fatalf("docker-compose.yml has no service %s", service)
	}
	vars := exampleSecrets(t)
	env := map[string]string{}
	for name, raw := range s.Environment {
		value, err := interpolate(raw, vars)
		if err != nil {
			t.Fatalf("service %s, %s: %v", service, name, err)
		}
		env[name] = value
	}
	return env
}

// hostPort splits host:port and returns the port as a number.
func hostPort(t *testing.T, source, addr string) (string, int) {
	t.Helper()
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s: %q is not host:port: %v", source, addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatalf("%s: port of %q is not a number", source, addr)
	}
	return host, port
}

// published returns the host port that a service publishes containerPort on.
func published(t *testing.T, s composeService, containerPort int) (int, bool) {
	t.Helper()
	for _, mapping := range s.Ports {
		parts := strings.Split(mapping, ":")
		if len(parts) < 2 {
			continue
		}
		inside, err1 := strconv.Atoi(parts[len(parts)-1])
		outside, err2 := strconv.Atoi(parts[len(parts)-2])
		if err1 != nil || err2 != nil {
			t.Fatalf("port mapping %q is not [ip:]host:container", mapping)
		}
		if inside == containerPort {
			return outside, true
		}
	}
	return 0, false
}

func TestCompose_HasServices(t *testing.T) {
	f := loadCompose(t)
	for _, name := range []string{"postgres", "temporal", "temporal-ui", "temporal-setup", "migrate", "api", "worker"} {
		if _, ok := f.Services[name]; !ok {
			t.Errorf("docker-compose.yml lacks the service %s", name)
		}
	}
	for _, name := range []string{"migrate", "api", "worker", "temporal-setup"} {
		s := f.Services[name]
		if s.Image != "yst:local" || s.Build == nil {
			t.Errorf("service %s: image %q built here, want yst:local built from the Dockerfile", name, s.Image)
		}
	}
	if got := f.Services["migrate"].Command; !slices.Equal(got, []string{"migrate"}) {
		t.Errorf("migrate runs %v, want yst migrate", got)
	}
	if got := f.Services["temporal-setup"].Command; !slices.Equal(got, []string{"temporal-setup"}) {
		t.Errorf("temporal-setup runs %v, want yst temporal-setup", got)
	}
}

func TestCompose_EveryYSTVariableExists(t *testing.T) {
	known := map[string]bool{}
	for _, v := range config.Variables {
		known[v.Name] = true
	}
	f := loadCompose(t)
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(where, name string) {
		if strings.HasPrefix(name, "YST_") && !known[name] {
			t.Errorf("%s sets %s, which config.Variables does not list", where, name)
		}
	}
	for service, s := range f.Services {
		for name := range s.Environment {
			check("service "+service, name)
		}
	}
	for _, m := range reference.FindAllStringSubmatch(string(raw), -1) {
		check("docker-compose.yml", m[1])
	}
	for name := range loadEnvExample(t) {
		check(".env.example", name)
	}
}

func TestCompose_RequiredVariablesAreInEnvExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	example := loadEnvExample(t)
	for _, m := range reference.FindAllStringSubmatch(string(raw), -1) {
		if _, ok := example[m[1]]; !ok {
			t.Errorf("docker-compose.yml reads ${%s}, which .env.example does not list", m[1])
		}
	}
	if _, err := interpolate(string(raw), loadEnvExample(t)); err == nil {
		t.Error("docker-compose.yml starts with the empty secrets of .env.example, want it to refuse")
	}
}

func TestCompose_ConfigurationLoads(t *testing.T) {
	f := loadCompose(t)
	needs := map[string][]config.Secret{
		"api":            {config.NeedDataKey, config.NeedStaffToken, config.NeedCallbackSecret},
		"worker":         {config.NeedDataKey, config.NeedCallbackSecret},
		"migrate":        nil,
		"temporal-setup": nil,
	}
	for service, secrets := range needs {
		env := serviceEnvironment(t, f, service)
		cfg, err := config.Load(func(name string) string { return env[name] })
		if err != nil {
			t.Errorf("service %s: invalid configuration: %v", service, err)
			continue
		}
		if err := cfg.RequireSecrets(secrets...); err != nil {
			t.Errorf("service %s: %v", service, err)
		}
		if service != "temporal-setup" && !cfg.UsesPostgres() {
			t.Errorf("service %s does not use PostgreSQL", service)
		}
	}
}

func TestCompose_APIPortsAgree(t *testing.T) {
	f := loadCompose(t)
	env := serviceEnvironment(t, f, "api")
	_, port := hostPort(t, "api YST_HTTP_ADDR", env["YST_HTTP_ADDR"])
	hostSide, ok := published(t, f.Services["api"], port)
	if !ok {
		t.Fatalf("api listens on %d (YST_HTTP_ADDR) but publishes no port mapped to it: %v", port, f.Services["api"].Ports)
	}

	public, err := url.Parse(env["YST_PUBLIC_URL"])
	if err != nil {
		t.Fatalf("YST_PUBLIC_URL %q: %v", env["YST_PUBLIC_URL"], err)
	}
	if public.Port() != strconv.Itoa(hostSide) {
		t.Errorf("YST_PUBLIC_URL %s names port %s, but the API is published on %d", public, public.Port(), hostSide)
	}

	codec, err := url.Parse(serviceEnvironment(t, f, "temporal-ui")["TEMPORAL_CODEC_ENDPOINT"])
	if err != nil {
		t.Fatal(err)
	}
	if codec.Port() != strconv.Itoa(hostSide) || codec.Path != "/codec" {
		t.Errorf("the UI's codec endpoint %s is not /codec on the API's published port %d", codec, hostSide)
	}

	health := f.Services["api"].Healthcheck
	if health == nil || !slices.Contains(health.Test, fmt.Sprintf("http://127.0.0.1:%d/readyz", port)) {
		t.Errorf("api health check %v does not call /readyz on port %d", health, port)
	}
}

func TestCompose_WorkerServesMetrics(t *testing.T) {
	f := loadCompose(t)
	env := serviceEnvironment(t, f, "worker")
	if env["YST_METRICS_ADDR"] == "" {
		t.Fatal("worker sets no YST_METRICS_ADDR, so neither its metrics nor its health check are served")
	}
	_, port := hostPort(t, "worker YST_METRICS_ADDR", env["YST_METRICS_ADDR"])
	health := f.Services["worker"].Healthcheck
	if health == nil || !slices.Contains(health.Test, fmt.Sprintf("http://127.0.0.1:%d/healthz", port)) {
		t.Errorf("worker health check %v does not call /healthz on port %d", health, port)
	}
}

func TestCompose_TemporalAddressNamesTemporal(t *testing.T) {
	f := loadCompose(t)
	temporal := f.Services["temporal"]
	for _, service := range []string{"api", "worker", "temporal-setup", "temporal-ui"} {
		env := serviceEnvironment(t, f, service)
		name := "YST_TEMPORAL_ADDRESS"
		if service == "temporal-ui" {
			name = "TEMPORAL_ADDRESS"
		}
		host, port := hostPort(t, service+" "+name, env[name])
		if host != "temporal" {
			t.Errorf("service %s: %s names host %s, want the temporal service", service, name, host)
		}
		if port != 7233 {
			t.Errorf("service %s: %s names port %d, want the frontend's 7233", service, name, port)
		}
	}
	if temporal.Healthcheck == nil || !slices.Contains(temporal.Healthcheck.Test, "7233") {
		t.Error("the temporal health check does not probe the frontend port 7233")
	}
}

func TestCompose_DatabasesAreSeparate(t *testing.T) {
	f := loadCompose(t)
	u, err := url.Parse(serviceEnvironment(t, f, "api")["YST_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "postgres" || u.Port() != "5432" {
		t.Errorf("YST_DATABASE_URL names %s, want the postgres service on 5432", u.Host)
	}
	if _, ok := f.Services[u.Hostname()]; !ok {
		t.Errorf("YST_DATABASE_URL names %s, which is no service", u.Hostname())
	}
	database := strings.TrimPrefix(u.Path, "/")
	temporalEnv := serviceEnvironment(t, f, "temporal")
	for _, name := range []string{"DBNAME", "VISIBILITY_DBNAME"} {
		if temporalEnv[name] == "" || temporalEnv[name] == database {
			t.Errorf("Temporal's %s = %q, want a database other than the service's %q", name, temporalEnv[name], database)
		}
	}
	if temporalEnv["POSTGRES_SEEDS"] != u.Hostname() {
		t.Errorf("Temporal uses PostgreSQL at %q, want the service's %q", temporalEnv["POSTGRES_SEEDS"], u.Hostname())
	}
	if u.User.Username() == temporalEnv["POSTGRES_USER"] {
		t.Errorf("the service and Temporal share the role %s", u.User.Username())
	}

	script, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "postgres-init.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"CREATE DATABASE " + database + " OWNER " + u.User.Username(),
		"CREATE DATABASE " + temporalEnv["DBNAME"] + " OWNER " + temporalEnv["POSTGRES_USER"],
		"CREATE DATABASE " + temporalEnv["VISIBILITY_DBNAME"] + " OWNER " + temporalEnv["POSTGRES_USER"],
	} {
		if !strings.Contains(string(script), want) {
			t.Errorf("deploy/postgres-init.sh lacks %q", want)
		}
	}
}

func TestCompose_StartOrder(t *testing.T) {
	f := loadCompose(t)
	for name, s := range f.Services {
		for dependency := range s.DependsOn {
			if _, ok := f.Services[dependency]; !ok {
				t.Errorf("service %s depends on %s, which is no service", name, dependency)
			}
		}
	}
	want := map[string]map[string]string{
		"temporal-schema":    {"postgres": "service_healthy"},
		"temporal":           {"temporal-schema": "service_completed_successfully"},
		"temporal-namespace": {"temporal": "service_healthy"},
		"temporal-setup":     {"temporal-namespace": "service_completed_successfully"},
		"temporal-ui":        {"temporal": "service_healthy"},
		"migrate":            {"postgres": "service_healthy"},
		"api":                {"migrate": "service_completed_successfully", "temporal-setup": "service_completed_successfully"},
		"worker":             {"migrate": "service_completed_successfully", "temporal-setup": "service_completed_successfully"},
	}
	for service, dependencies := range want {
		for dependency, condition := range dependencies {
			if got := f.Services[service].DependsOn[dependency].Condition; got != condition {
				t.Errorf("%s depends on %s with condition %q, want %q", service, dependency, got, condition)
			}
		}
	}
	for _, oneShot := range []string{"temporal-schema", "temporal-namespace", "temporal-setup", "migrate"} {
		if got := f.Services[oneShot].Restart; got != "no" {
			t.Errorf("one-shot service %s has restart %q, want no", oneShot, got)
		}
	}
	for _, long := range []string{"postgres", "temporal", "api", "worker"} {
		if f.Services[long].Healthcheck == nil {
			t.Errorf("service %s has no health check", long)
		}
	}
}

func TestCompose_StopGracePeriodCoversShutdown(t *testing.T) {
	grace, err := time.ParseDuration(loadCompose(t).Services["api"].StopGracePeriod)
	if err != nil {
		t.Fatalf("api stop_grace_period: %v", err)
	}
	if grace <= app.ShutdownTimeout {
		t.Errorf("api stop_grace_period %s does not exceed app.ShutdownTimeout %s, so Docker would kill requests in flight", grace, app.ShutdownTimeout)
	}
}

func TestCompose_MountedFilesExist(t *testing.T) {
	for name, s := range loadCompose(t).Services {
		for _, volume := range s.Volumes {
			source, _, _ := strings.Cut(volume, ":")
			if !strings.HasPrefix(source, "./") {
				continue
			}
			if _, err := os.Stat(filepath.Join(testenv.RepoRoot(), source)); err != nil {
				t.Errorf("service %s mounts %s: %v", name, source, err)
			}
		}
	}
}

func TestInterpolate_ComposeSyntax(t *testing.T) {
	vars := map[string]string{"SET": "value", "EMPTY": ""}
	cases := []struct {
		in, want string
		fails    bool
	}{
		{in: "${SET}", want: "value"},
		{in: "a-${SET}-b", want: "a-value-b"},
		{in: "${UNSET:-fallback}", want: "fallback"},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${EMPTY-fallback}", want: ""},
		{in: "${SET:?needed}", want: "value"},
		{in: "${EMPTY:?needed}", fails: true},
		{in: "${UNSET?needed}", fails: true},
	}
	for _, c := range cases {
		got, err := interpolate(c.in, vars)
		if c.fails {
			if err == nil {
				t.Errorf("interpolate(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("interpolate(%q) = %q, %v, want %q", c.in, got, err, c.want)
		}
	}
}
