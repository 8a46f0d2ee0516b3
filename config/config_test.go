package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadPrecedence(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	root := t.TempDir()
	toml := `endpoint = "http://gpu:8080/v1"
max_in_flight = 8
[model]
name = "my-adapter"
timeout = "90s"
[agents.planner]
name = "tgi"
[style]
profile = "prof.json"
`
	if err := os.WriteFile(filepath.Join(root, FileName), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("R2C_MAX_IN_FLIGHT", "3")
	cfg, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "http://gpu:8080/v1" {
		t.Errorf("endpoint from file not applied: %q", cfg.Endpoint)
	}
	if cfg.MaxInFlight != 3 {
		t.Errorf("environment must override the file: max_in_flight = %d", cfg.MaxInFlight)
	}
	if got := cfg.AgentModel("implementer"); got.Name != "my-adapter" || got.Timeout.D() != 90*time.Second {
		t.Errorf("implementer should inherit the default model: %+v", got)
	}
	if got := cfg.AgentModel("planner"); got.Name != "tgi" || *got.Temperature != 0 {
		t.Errorf("planner override lost: name=%q temp=%v", got.Name, *got.Temperature)
	}
	if cfg.Style.Profile != filepath.Join(root, "prof.json") {
		t.Errorf("relative path not resolved against the workspace: %q", cfg.Style.Profile)
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, FileName), []byte("endpont = \"x\"\n"), 0o644)
	_, err := Load(root)
	if err == nil || !strings.Contains(err.Error(), "endpont") {
		t.Fatalf("want an error naming the misspelt key, got %v", err)
	}
}

func TestValidateNamesTheFix(t *testing.T) {
	c := Default()
	c.Endpoint = "localhost:8080"
	c.Sandbox.MinIsolation = "strong"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "http://") || !strings.Contains(err.Error(), "bubblewrap") {
		t.Fatalf("want both problems with their fixes, got %v", err)
	}
}

func TestParseJSONRejectsUnknownFields(t *testing.T) {
	if _, err := ParseJSON([]byte(`{"endpoint":"http://x/v1","bogus":1}`)); err == nil {
		t.Fatal("unknown initializationOptions key accepted")
	}
	over, err := ParseJSON([]byte(`{"server":{"debounce":"50ms"},"agents":{"implementer":{"name":"style-lora"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.Merge(over)
	if c.Server.Debounce.D() != 50*time.Millisecond || c.AgentModel("implementer").Name != "style-lora" {
		t.Fatalf("merge lost settings: %+v", c.Server)
	}
}

func TestAPIKeyNeverFromConfigFile(t *testing.T) {
	c := Default()
	t.Setenv("R2C_API_KEY", "sk-secret")
	if k, _ := c.APIKey(); k != "sk-secret" {
		t.Fatalf("key from env: %q", k)
	}
	f := filepath.Join(t.TempDir(), "key")
	os.WriteFile(f, []byte("sk-file\n"), 0o600)
	c.APIKeyFile = f
	if k, _ := c.APIKey(); k != "sk-file" {
		t.Fatalf("key from file: %q", k)
	}
}

func TestDefaultPathsResolvedAgainstRoot(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	root := t.TempDir()
	cfg, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"index.dir": cfg.Index.Dir, "style.profile": cfg.Style.Profile, "runs_dir": cfg.RunsDir} {
		if !strings.HasPrefix(p, root+string(filepath.Separator)) {
			t.Errorf("%s = %q, want it under the workspace root %q", name, p, root)
		}
	}
}

// The settings added for the model server, the sandbox, the orchestrator and
// papers are read from a real TOML file under their documented names.
func TestNewKeysFromTOML(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	root := t.TempDir()
	toml := `server_kind = "vllm"
json_mode = "guided_json"
context_tokens = 8192
plan_revisions = 2
[sandbox]
cpu = "30s"
output_kb = 64
file_mb = 16
disk_mb = 100
max_files = 500
[paper]
cache_dir = "papers"
download_timeout = "2m"
max_pages = 50
[server]
debounce = "0s"
`
	if err := os.WriteFile(filepath.Join(root, FileName), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerKind != "vllm" || cfg.JSONMode != "guided_json" || cfg.ContextTokens != 8192 {
		t.Errorf("model server keys: kind %q, json_mode %q, context %d", cfg.ServerKind, cfg.JSONMode, cfg.ContextTokens)
	}
	if cfg.PlanRevisions == nil || *cfg.PlanRevisions != 2 {
		t.Errorf("plan_revisions = %v", cfg.PlanRevisions)
	}
	if s := cfg.Sandbox; s.CPU.D() != 30*time.Second || s.OutputKB != 64 || s.FileMB != 16 || s.DiskMB != 100 || s.MaxFiles != 500 || s.MemoryMB != 2048 {
		t.Errorf("sandbox: %+v", s)
	}
	if cfg.Paper.CacheDir != filepath.Join(root, "papers") || cfg.Paper.DownloadTimeout.D() != 2*time.Minute || cfg.Paper.MaxPages != 50 {
		t.Errorf("paper: %+v (cache_dir must resolve against the workspace)", cfg.Paper)
	}
	if cfg.Server.Debounce == nil || cfg.Server.DebounceDelay() != 0 {
		t.Errorf("debounce = \"0s\" must override the 150ms default, got %v", cfg.Server.Debounce)
	}
}

// Zero is a meaningful value for debounce (no debouncing) and plan_revisions
// (never revise): an explicit zero from the editor overrides a file's value,
// while an absent key keeps it.
func TestExplicitZeroOverridesButAbsentKeeps(t *testing.T) {
	c := Default()
	if c.Server.DebounceDelay() != 150*time.Millisecond || *c.PlanRevisions != 1 {
		t.Fatalf("defaults: debounce %s, plan_revisions %d", c.Server.DebounceDelay(), *c.PlanRevisions)
	}
	absent, err := ParseJSON([]byte(`{"server":{"log_file":"/tmp/x.log"}}`))
	if err != nil {
		t.Fatal(err)
	}
	c.Merge(absent)
	if c.Server.DebounceDelay() != 150*time.Millisecond || *c.PlanRevisions != 1 {
		t.Fatalf("absent keys changed values: debounce %s, plan_revisions %d", c.Server.DebounceDelay(), *c.PlanRevisions)
	}
	zero, err := ParseJSON([]byte(`{"server":{"debounce":"0s"},"plan_revisions":0}`))
	if err != nil {
		t.Fatal(err)
	}
	c.Merge(zero)
	if c.Server.Debounce == nil || c.Server.DebounceDelay() != 0 || *c.PlanRevisions != 0 {
		t.Fatalf("explicit zeros lost: debounce %v, plan_revisions %d", c.Server.Debounce, *c.PlanRevisions)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("zeros are valid: %v", err)
	}
	// A nil debounce (a Config built by hand) means no delay, not a panic.
	if (Server{}).DebounceDelay() != 0 {
		t.Fatal("unset debounce")
	}
}

func TestValidateNewKeys(t *testing.T) {
	c := Default()
	c.ServerKind = "triton"
	c.JSONMode = "off-ish"
	c.ContextTokens = -1
	c.PlanRevisions = ptr(-1)
	c.Sandbox.OutputKB = -5
	c.Sandbox.CPU = Duration(-time.Second)
	c.Server.Debounce = ptr(Duration(-time.Millisecond))
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid settings accepted")
	}
	for _, want := range []string{"server_kind", "llamacpp", "json_mode", "guided_json", "context_tokens", "plan_revisions", "sandbox.output_kb", "sandbox.cpu", "server.debounce"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
	for _, kind := range []string{"", "auto", "tgi", "vllm", "ollama", "llamacpp", "openai"} {
		for _, mode := range []string{"", "auto", "none", "tgi", "json_schema", "guided_json", "json_object"} {
			c := Default()
			c.ServerKind, c.JSONMode = kind, mode
			if err := c.Validate(); err != nil {
				t.Errorf("server_kind %q json_mode %q rejected: %v", kind, mode, err)
			}
		}
	}
}
