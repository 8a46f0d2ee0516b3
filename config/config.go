// Package config is r2c's single configuration schema.
//
// The same Config value is filled, in increasing order of precedence, from
// built-in defaults, the user file ($XDG_CONFIG_HOME/r2c/r2c.toml), the
// workspace file (r2c.toml at the workspace root), R2C_* environment
// variables, and finally command-line flags or LSP initializationOptions
// (both applied with Merge). Every consumer — the CLI, the language server,
// the orchestrator — reads this one struct, so a setting means the same
// thing everywhere.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// FileName is the project configuration file looked up at the workspace root.
const FileName = "r2c.toml"

// Duration is a time.Duration that reads and writes as a Go duration string
// ("90s", "2m") in TOML and JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts Go duration
// strings and, for convenience, a bare number of seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. \"90s\" or \"2m\")", s)
	}
	*d = Duration(v)
	return nil
}

// Model configures one agent's use of the model server. Zero fields inherit
// from Config.Model.
type Model struct {
	// Name is the request's "model" field. On TGI it selects a LoRA adapter
	// loaded with --lora-adapters, and "tgi" means the base model; on vLLM it
	// is the served model or a --lora-modules name.
	Name        string   `toml:"name,omitempty" json:"name,omitempty"`
	Temperature *float64 `toml:"temperature,omitempty" json:"temperature,omitempty"`
	MaxTokens   int      `toml:"max_tokens,omitempty" json:"max_tokens,omitempty"`
	Timeout     Duration `toml:"timeout,omitempty" json:"timeout,omitempty"`
}

// overlay sets m's fields from the non-zero fields of v. It is the one
// merge rule for model settings: Merge overlays flags and editor settings
// on the files with it, and AgentModel overlays an agent's own settings on
// the defaults.
func (m *Model) overlay(v Model) {
	if v.Name != "" {
		m.Name = v.Name
	}
	if v.Temperature != nil {
		m.Temperature = v.Temperature
	}
	if v.MaxTokens != 0 {
		m.MaxTokens = v.MaxTokens
	}
	if v.Timeout != 0 {
		m.Timeout = v.Timeout
	}
}

// Agents holds per-agent overrides of the default model settings.
type Agents struct {
	Analyzer    Model `toml:"analyzer,omitempty" json:"analyzer,omitempty"`
	Planner     Model `toml:"planner,omitempty" json:"planner,omitempty"`
	Implementer Model `toml:"implementer,omitempty" json:"implementer,omitempty"`
	Validator   Model `toml:"validator,omitempty" json:"validator,omitempty"`
}

// Sandbox configures where and how untrusted generated code runs.
type Sandbox struct {
	// Python is the interpreter used for py_compile and pytest. Empty means
	// the first python3 on PATH that has pytest, then /usr/bin/python3.
	Python string `toml:"python,omitempty" json:"python,omitempty"`
	// MinIsolation refuses to run below this level: "none", "namespaces" or
	// "bubblewrap". Empty accepts whatever the machine offers.
	MinIsolation string `toml:"min_isolation,omitempty" json:"min_isolation,omitempty"`
	// Timeout is the wall-clock limit of one run.
	Timeout Duration `toml:"timeout,omitempty" json:"timeout,omitempty"`
	// CPU is the CPU time each process may use (RLIMIT_CPU).
	CPU Duration `toml:"cpu,omitempty" json:"cpu,omitempty"`
	// MemoryMB is the address space each process may use (RLIMIT_AS).
	MemoryMB     int `toml:"memory_mb,omitempty" json:"memory_mb,omitempty"`
	MaxProcesses int `toml:"max_processes,omitempty" json:"max_processes,omitempty"`
	// OutputKB caps what is kept of stdout and of stderr each; a program
	// printing more is killed.
	OutputKB int `toml:"output_kb,omitempty" json:"output_kb,omitempty"`
	// FileMB is the largest file a program may write (RLIMIT_FSIZE).
	FileMB int `toml:"file_mb,omitempty" json:"file_mb,omitempty"`
	// DiskMB caps all files of one run together; the run is killed beyond it.
	DiskMB int `toml:"disk_mb,omitempty" json:"disk_mb,omitempty"`
	// MaxFiles caps how many files and folders one run may create.
	MaxFiles int `toml:"max_files,omitempty" json:"max_files,omitempty"`
	// KeepDirs keeps each run's temporary directory for debugging.
	KeepDirs bool `toml:"keep_dirs,omitempty" json:"keep_dirs,omitempty"`
}

// Index configures the retrieval store.
type Index struct {
	Dir string `toml:"dir,omitempty" json:"dir,omitempty"`
	// Embedder is "offline" (hashed n-grams, no server) or "openai" (any
	// OpenAI-compatible /v1/embeddings endpoint).
	Embedder          string `toml:"embedder,omitempty" json:"embedder,omitempty"`
	EmbeddingEndpoint string `toml:"embedding_endpoint,omitempty" json:"embedding_endpoint,omitempty"`
	EmbeddingModel    string `toml:"embedding_model,omitempty" json:"embedding_model,omitempty"`
	// Disabled turns retrieval off entirely.
	Disabled bool `toml:"disabled,omitempty" json:"disabled,omitempty"`
}

// Style configures the style engine.
type Style struct {
	// Profile is the learned profile, relative to the workspace root.
	Profile string `toml:"profile,omitempty" json:"profile,omitempty"`
	// Diagnostics shows style diagnostics while typing.
	Diagnostics *bool `toml:"diagnostics,omitempty" json:"diagnostics,omitempty"`
	// MinEvidence hides diagnostics for dimensions the profile has seen fewer
	// times than this.
	MinEvidence int `toml:"min_evidence,omitempty" json:"min_evidence,omitempty"`
}

// Paper configures reading papers.
type Paper struct {
	// CacheDir keeps downloaded arXiv papers; empty means
	// os.UserCacheDir()/r2c/arxiv.
	CacheDir string `toml:"cache_dir,omitempty" json:"cache_dir,omitempty"`
	// DownloadTimeout bounds one arXiv download.
	DownloadTimeout Duration `toml:"download_timeout,omitempty" json:"download_timeout,omitempty"`
	// MaxPages refuses longer PDFs, which are rarely papers and cost
	// memory and time to read.
	MaxPages int `toml:"max_pages,omitempty" json:"max_pages,omitempty"`
}

// Server configures the language server.
type Server struct {
	ValidateOnSave *bool `toml:"validate_on_save,omitempty" json:"validate_on_save,omitempty"`
	// Debounce delays diagnostics after an edit. It is a pointer so that an
	// explicit "0s" (no debouncing) overrides a non-zero default in Merge.
	Debounce *Duration `toml:"debounce,omitempty" json:"debounce,omitempty"`
	LogFile  string    `toml:"log_file,omitempty" json:"log_file,omitempty"`
}

// DebounceDelay returns the debounce delay, 0 when it is unset.
func (s Server) DebounceDelay() time.Duration {
	if s.Debounce == nil {
		return 0
	}
	return s.Debounce.D()
}

// Config is the whole of r2c's configuration.
type Config struct {
	// Endpoint is the OpenAI-compatible base URL, e.g. http://localhost:8080/v1.
	Endpoint string `toml:"endpoint,omitempty" json:"endpoint,omitempty"`
	// APIKeyEnv names the environment variable holding the API key
	// (default R2C_API_KEY). The key itself is never stored in Config files.
	APIKeyEnv string `toml:"api_key_env,omitempty" json:"api_key_env,omitempty"`
	// APIKeyFile is a file whose trimmed contents are the API key.
	APIKeyFile string `toml:"api_key_file,omitempty" json:"api_key_file,omitempty"`
	// Model holds the defaults every agent inherits.
	Model  Model  `toml:"model,omitempty" json:"model,omitempty"`
	Agents Agents `toml:"agents,omitempty" json:"agents,omitempty"`
	// MaxInFlight bounds concurrent requests to the model server.
	MaxInFlight int `toml:"max_in_flight,omitempty" json:"max_in_flight,omitempty"`
	// MaxRetries bounds retries of one model request on 429, 5xx and
	// connection errors.
	MaxRetries int `toml:"max_retries,omitempty" json:"max_retries,omitempty"`
	// ServerKind names the model server ("tgi", "vllm", "ollama",
	// "llamacpp", "openai"); empty or "auto" detects it from /info or
	// /v1/models.
	ServerKind string `toml:"server_kind,omitempty" json:"server_kind,omitempty"`
	// JSONMode is how structured answers are constrained: "none" (prompt and
	// validation only), "tgi" (TGI grammar), "json_schema" (OpenAI
	// response_format), "guided_json" (older vLLM) or "json_object"
	// (llama-cpp-python's grammar); empty or "auto" chooses by server kind.
	JSONMode string `toml:"json_mode,omitempty" json:"json_mode,omitempty"`
	// ContextTokens is the model's context length (prompt plus answer);
	// 0 asks the server.
	ContextTokens int `toml:"context_tokens,omitempty" json:"context_tokens,omitempty"`
	// SystemMessage is how the agents' instructions reach the model:
	// "separate" (the default: a system message) or "in_user" (prepended to
	// the first user message, for chat templates without a system role,
	// such as Gemma's, which would otherwise drop it or refuse it).
	SystemMessage string `toml:"system_message,omitempty" json:"system_message,omitempty"`
	// Rounds bounds the Validator → Implementer correction loop.
	Rounds int `toml:"rounds,omitempty" json:"rounds,omitempty"`
	// PlanRevisions bounds how often the Planner may revise a plan whose
	// correction rounds all failed. A pointer so that an explicit 0 (never
	// revise) overrides the default in Merge; nil means the default, 1.
	PlanRevisions *int    `toml:"plan_revisions,omitempty" json:"plan_revisions,omitempty"`
	Sandbox       Sandbox `toml:"sandbox,omitempty" json:"sandbox,omitempty"`
	Index         Index   `toml:"index,omitempty" json:"index,omitempty"`
	Style         Style   `toml:"style,omitempty" json:"style,omitempty"`
	Server        Server  `toml:"server,omitempty" json:"server,omitempty"`
	Paper         Paper   `toml:"paper,omitempty" json:"paper,omitempty"`
	// RunsDir is where run records are written (default .r2c/runs).
	RunsDir string `toml:"runs_dir,omitempty" json:"runs_dir,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// Default returns the built-in defaults. Timeouts are generous because a
// 7B model on a local GPU can take minutes for a long answer.
func Default() Config {
	return Config{
		Endpoint:  "http://localhost:8080/v1",
		APIKeyEnv: "R2C_API_KEY",
		Model: Model{
			Name:        "tgi",
			Temperature: ptr(0.2),
			MaxTokens:   0, // 0: each agent's own default (agents.DefaultMaxTokens), lowered to fit the context
			Timeout:     Duration(5 * time.Minute),
		},
		Agents: Agents{
			Analyzer: Model{Temperature: ptr(0.0)},
			Planner:  Model{Temperature: ptr(0.0)},
		},
		MaxInFlight:   4,
		MaxRetries:    4,
		Rounds:        3,
		PlanRevisions: ptr(1),
		Sandbox: Sandbox{
			Timeout:      Duration(60 * time.Second),
			CPU:          Duration(60 * time.Second),
			MemoryMB:     2048,
			MaxProcesses: 64,
			OutputKB:     1024,
			FileMB:       256,
			DiskMB:       1024,
			MaxFiles:     20000,
		},
		Index: Index{Dir: ".r2c/index", Embedder: "offline"},
		Style: Style{Profile: ".r2c/style.json", Diagnostics: ptr(true), MinEvidence: 5},
		Server: Server{
			ValidateOnSave: ptr(false),
			Debounce:       ptr(Duration(150 * time.Millisecond)),
		},
		Paper:   Paper{DownloadTimeout: Duration(60 * time.Second), MaxPages: 1000},
		RunsDir: ".r2c/runs",
	}
}

// AgentModel returns the effective model settings of one agent
// ("analyzer", "planner", "implementer" or "validator").
func (c Config) AgentModel(agent string) Model {
	var m Model
	switch agent {
	case "analyzer":
		m = c.Agents.Analyzer
	case "planner":
		m = c.Agents.Planner
	case "implementer":
		m = c.Agents.Implementer
	case "validator":
		m = c.Agents.Validator
	}
	out := c.Model
	out.overlay(m)
	return out
}

// APIKey returns the API key from APIKeyFile or the APIKeyEnv variable.
// An empty key is valid: local TGI and vLLM servers usually need none.
func (c Config) APIKey() (string, error) {
	if c.APIKeyFile != "" {
		b, err := os.ReadFile(c.APIKeyFile)
		if err != nil {
			return "", fmt.Errorf("config: read api_key_file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	env := c.APIKeyEnv
	if env == "" {
		env = "R2C_API_KEY"
	}
	return os.Getenv(env), nil
}

// Load builds the effective configuration for a workspace root (which may be
// empty): defaults, then the user file, then root/r2c.toml, then the
// environment. With a root, every relative path (defaults included) is
// resolved against it.
func Load(root string) (Config, error) {
	cfg := Default()
	if dir, err := os.UserConfigDir(); err == nil {
		if err := mergeFile(&cfg, filepath.Join(dir, "r2c", FileName), ""); err != nil {
			return cfg, err
		}
	}
	if root != "" {
		if err := mergeFile(&cfg, filepath.Join(root, FileName), root); err != nil {
			return cfg, err
		}
	}
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		return cfg, err
	}
	if root != "" {
		// Defaults and environment values are relative too; resolving them
		// here means every consumer finds the same index and profile
		// whatever its working directory.
		cfg.ResolvePaths(root)
	}
	return cfg, cfg.Validate()
}

func mergeFile(cfg *Config, path, root string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var over Config
	md, err := toml.Decode(string(b), &over)
	if err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("config: %s: unknown keys %s (see README, Configuration)", path, strings.Join(keys, ", "))
	}
	if root != "" {
		over.ResolvePaths(root)
	}
	cfg.Merge(over)
	return nil
}

// ResolvePaths makes the relative folders and files of c (index, style
// profile, runs, API key file, log file, paper cache) absolute under root,
// as Load does for r2c.toml; absolute and empty ones are left alone.
func (c *Config) ResolvePaths(root string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(root, *p)
		}
	}
	abs(&c.Index.Dir)
	abs(&c.Style.Profile)
	abs(&c.RunsDir)
	abs(&c.APIKeyFile)
	abs(&c.Server.LogFile)
	abs(&c.Paper.CacheDir)
}

// ParseJSON decodes LSP initializationOptions or
// workspace/didChangeConfiguration settings; unknown keys are an error.
func ParseJSON(b []byte) (Config, error) {
	var over Config
	if len(b) == 0 || string(b) == "null" {
		return over, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&over); err != nil {
		return over, fmt.Errorf("config: settings: %w", err)
	}
	return over, nil
}

// Merge overlays the non-zero fields of over onto c.
func (c *Config) Merge(over Config) {
	setS := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setI := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	setD := func(dst *Duration, v Duration) {
		if v != 0 {
			*dst = v
		}
	}
	setS(&c.Endpoint, over.Endpoint)
	setS(&c.APIKeyEnv, over.APIKeyEnv)
	setS(&c.APIKeyFile, over.APIKeyFile)
	c.Model.overlay(over.Model)
	c.Agents.Analyzer.overlay(over.Agents.Analyzer)
	c.Agents.Planner.overlay(over.Agents.Planner)
	c.Agents.Implementer.overlay(over.Agents.Implementer)
	c.Agents.Validator.overlay(over.Agents.Validator)
	setI(&c.MaxInFlight, over.MaxInFlight)
	setI(&c.MaxRetries, over.MaxRetries)
	setS(&c.ServerKind, over.ServerKind)
	setS(&c.JSONMode, over.JSONMode)
	setI(&c.ContextTokens, over.ContextTokens)
	setS(&c.SystemMessage, over.SystemMessage)
	setI(&c.Rounds, over.Rounds)
	if over.PlanRevisions != nil {
		c.PlanRevisions = over.PlanRevisions
	}
	setS(&c.Sandbox.Python, over.Sandbox.Python)
	setS(&c.Sandbox.MinIsolation, over.Sandbox.MinIsolation)
	setD(&c.Sandbox.Timeout, over.Sandbox.Timeout)
	setD(&c.Sandbox.CPU, over.Sandbox.CPU)
	setI(&c.Sandbox.MemoryMB, over.Sandbox.MemoryMB)
	setI(&c.Sandbox.MaxProcesses, over.Sandbox.MaxProcesses)
	setI(&c.Sandbox.OutputKB, over.Sandbox.OutputKB)
	setI(&c.Sandbox.FileMB, over.Sandbox.FileMB)
	setI(&c.Sandbox.DiskMB, over.Sandbox.DiskMB)
	setI(&c.Sandbox.MaxFiles, over.Sandbox.MaxFiles)
	c.Sandbox.KeepDirs = c.Sandbox.KeepDirs || over.Sandbox.KeepDirs
	setS(&c.Index.Dir, over.Index.Dir)
	setS(&c.Index.Embedder, over.Index.Embedder)
	setS(&c.Index.EmbeddingEndpoint, over.Index.EmbeddingEndpoint)
	setS(&c.Index.EmbeddingModel, over.Index.EmbeddingModel)
	c.Index.Disabled = c.Index.Disabled || over.Index.Disabled
	setS(&c.Style.Profile, over.Style.Profile)
	if over.Style.Diagnostics != nil {
		c.Style.Diagnostics = over.Style.Diagnostics
	}
	setI(&c.Style.MinEvidence, over.Style.MinEvidence)
	if over.Server.ValidateOnSave != nil {
		c.Server.ValidateOnSave = over.Server.ValidateOnSave
	}
	if over.Server.Debounce != nil {
		c.Server.Debounce = over.Server.Debounce
	}
	setS(&c.Server.LogFile, over.Server.LogFile)
	setS(&c.Paper.CacheDir, over.Paper.CacheDir)
	setD(&c.Paper.DownloadTimeout, over.Paper.DownloadTimeout)
	setI(&c.Paper.MaxPages, over.Paper.MaxPages)
	setS(&c.RunsDir, over.RunsDir)
}

// envVars lists the environment variables r2c reads, for ApplyEnv and docs.
var envVars = []struct {
	name string
	set  func(c *Config, v string) error
}{
	{"R2C_ENDPOINT", func(c *Config, v string) error { c.Endpoint = v; return nil }},
	{"R2C_MODEL", func(c *Config, v string) error { c.Model.Name = v; return nil }},
	{"R2C_API_KEY_FILE", func(c *Config, v string) error { c.APIKeyFile = v; return nil }},
	{"R2C_PYTHON", func(c *Config, v string) error { c.Sandbox.Python = v; return nil }},
	{"R2C_MIN_ISOLATION", func(c *Config, v string) error { c.Sandbox.MinIsolation = v; return nil }},
	{"R2C_INDEX_DIR", func(c *Config, v string) error { c.Index.Dir = v; return nil }},
	{"R2C_MAX_IN_FLIGHT", func(c *Config, v string) error { return atoi(v, &c.MaxInFlight) }},
	{"R2C_TIMEOUT", func(c *Config, v string) error { return c.Model.Timeout.UnmarshalText([]byte(v)) }},
}

func atoi(s string, dst *int) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	*dst = n
	return nil
}

// EnvVars returns the names of the environment variables ApplyEnv reads
// (R2C_API_KEY, read by APIKey, is not among them: it is never copied into
// a Config).
func EnvVars() []string {
	names := make([]string, len(envVars))
	for i, e := range envVars {
		names[i] = e.name
	}
	return names
}

// ApplyEnv overlays R2C_* environment variables found by lookup.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	for _, e := range envVars {
		if v, ok := lookup(e.name); ok && v != "" {
			if err := e.set(c, v); err != nil {
				return fmt.Errorf("config: %s: %w", e.name, err)
			}
		}
	}
	return nil
}

func derefD(d *Duration) Duration {
	if d == nil {
		return 0
	}
	return *d
}

// Validate reports settings that cannot work, naming the fix.
func (c Config) Validate() error {
	var errs []error
	if c.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("max_in_flight must be at least 1, got %d", c.MaxInFlight))
	}
	if c.Rounds < 1 {
		errs = append(errs, fmt.Errorf("rounds must be at least 1, got %d", c.Rounds))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("max_retries must not be negative, got %d", c.MaxRetries))
	}
	switch c.ServerKind {
	case "", "auto", "tgi", "vllm", "ollama", "llamacpp", "openai":
	default:
		errs = append(errs, fmt.Errorf("server_kind must be auto, tgi, vllm, ollama, llamacpp or openai, got %q", c.ServerKind))
	}
	switch c.JSONMode {
	case "", "auto", "none", "tgi", "json_schema", "guided_json", "json_object":
	default:
		errs = append(errs, fmt.Errorf("json_mode must be auto, none, tgi, json_schema, guided_json or json_object, got %q", c.JSONMode))
	}
	switch c.SystemMessage {
	case "", "separate", "in_user":
	default:
		errs = append(errs, fmt.Errorf("system_message must be separate or in_user (for chat templates without a system role, such as Gemma's), got %q", c.SystemMessage))
	}
	if c.ContextTokens < 0 {
		errs = append(errs, fmt.Errorf("context_tokens must not be negative (0 asks the server), got %d", c.ContextTokens))
	}
	if c.PlanRevisions != nil && *c.PlanRevisions < 0 {
		errs = append(errs, fmt.Errorf("plan_revisions must not be negative, got %d", *c.PlanRevisions))
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"sandbox.memory_mb", c.Sandbox.MemoryMB}, {"sandbox.max_processes", c.Sandbox.MaxProcesses}, {"sandbox.output_kb", c.Sandbox.OutputKB}, {"sandbox.file_mb", c.Sandbox.FileMB}, {"sandbox.disk_mb", c.Sandbox.DiskMB}, {"sandbox.max_files", c.Sandbox.MaxFiles}, {"paper.max_pages", c.Paper.MaxPages}} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative (0 means the sandbox default), got %d", n.key, n.v))
		}
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"sandbox.timeout", c.Sandbox.Timeout}, {"sandbox.cpu", c.Sandbox.CPU}, {"paper.download_timeout", c.Paper.DownloadTimeout}, {"server.debounce", derefD(c.Server.Debounce)}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %s", d.key, d.v))
		}
	}
	switch c.Sandbox.MinIsolation {
	case "", "none", "namespaces", "bubblewrap":
	default:
		errs = append(errs, fmt.Errorf("sandbox.min_isolation must be none, namespaces or bubblewrap, got %q", c.Sandbox.MinIsolation))
	}
	switch c.Index.Embedder {
	case "", "offline", "openai":
	default:
		errs = append(errs, fmt.Errorf("index.embedder must be offline or openai, got %q", c.Index.Embedder))
	}
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		errs = append(errs, fmt.Errorf("endpoint must be an http(s) URL such as http://localhost:8080/v1, got %q", c.Endpoint))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
