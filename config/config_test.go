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
