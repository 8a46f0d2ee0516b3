// Package runstore keeps one row per run — from every front door (CLI,
// language server, HTTP API, eval) — in a local SQLite database, so that
// `r2c stats`, the API's /dashboard and its metrics can show success rates
// and failure patterns over time.
//
// The store uses modernc.org/sqlite, a pure-Go SQLite, so r2c adds no cgo
// dependency for it. Several processes may append to one store at once:
// SQLite's file locking serialises the writers and a busy timeout makes a
// writer wait for the lock instead of failing.
package runstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// FileName is the store's name under the workspace's .r2c folder.
const FileName = "runs.db"

// SchemaVersion is the version of the table layout, kept in SQLite's
// user_version so a later r2c can migrate an older store.
const SchemaVersion = 1

// Front doors a run can come through.
const (
	FrontDoorCLI  = "cli"
	FrontDoorLSP  = "lsp"
	FrontDoorAPI  = "api"
	FrontDoorEval = "eval"
)

// Run kinds.
const (
	KindImplement = "implement"
	KindValidate  = "validate"
)

// Row is one finished run.
type Row struct {
	ID        string        `json:"id"`
	FrontDoor string        `json:"front_door"`
	Kind      string        `json:"kind"`
	Status    string        `json:"status"` // passed|failed|cancelled|error
	Started   time.Time     `json:"started"`
	Duration  time.Duration `json:"duration"`
	Rounds    int           `json:"rounds"`
	// Tests counts the tests of the run's last validation.
	TestsPassed int     `json:"tests_passed"`
	TestsFailed int     `json:"tests_failed"`
	StyleScore  float64 `json:"style_score"`
	TokensIn    int     `json:"tokens_in"`
	TokensOut   int     `json:"tokens_out"`
	// ModelTime and SandboxTime are the time spent waiting for the model
	// server and running tests in the sandbox.
	ModelTime   time.Duration `json:"model_time"`
	SandboxTime time.Duration `json:"sandbox_time"`
	// SandboxKills counts sandboxed runs ended by a limit (time, memory).
	SandboxKills int `json:"sandbox_kills"`
	// FailedAgent is the agent whose step failed ("" when none did).
	FailedAgent string `json:"failed_agent,omitempty"`
	// ErrorClass is a short class of the run's error or of its failing
	// tests' exceptions ("AssertionError", "timeout", "unreachable", ...).
	ErrorClass string `json:"error_class,omitempty"`
	// FailingTests are the names of the tests that failed last.
	FailingTests []string `json:"failing_tests,omitempty"`
}

// Store is an open run store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens (creating if needed) the store at path.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("run store: %w", err)
	}
	// WAL lets readers (the dashboard) run while a front door appends.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("run store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("run store %s: %w (delete the file to start a new store)", path, err)
	}
	return s, nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) migrate() error {
	var version int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("written by a newer r2c (schema %d, this r2c reads up to %d)", version, SchemaVersion)
	}
	_, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS runs (
		id            TEXT PRIMARY KEY,
		front_door    TEXT NOT NULL,
		kind          TEXT NOT NULL,
		status        TEXT NOT NULL,
		started_ms    INTEGER NOT NULL,
		duration_ms   INTEGER NOT NULL,
		rounds        INTEGER NOT NULL,
		tests_passed  INTEGER NOT NULL,
		tests_failed  INTEGER NOT NULL,
		style_score   REAL NOT NULL,
		tokens_in     INTEGER NOT NULL,
		tokens_out    INTEGER NOT NULL,
		model_ms      INTEGER NOT NULL,
		sandbox_ms    INTEGER NOT NULL,
		sandbox_kills INTEGER NOT NULL,
		failed_agent  TEXT NOT NULL,
		error_class   TEXT NOT NULL,
		failing_tests TEXT NOT NULL
	);
	CREATE INDEX IF NOT EXISTS runs_started ON runs(started_ms);
	PRAGMA user_version = 1;`)
	return err
}

// Append records r. A row with an ID already stored replaces it, so a run
// recorded twice (a retry after a crash) is counted once.
func (s *Store) Append(ctx context.Context, r Row) error {
	if r.ID == "" || r.FrontDoor == "" || r.Kind == "" || r.Status == "" {
		return errors.New("run store: a row needs an id, a front door, a kind and a status")
	}
	failing, err := json.Marshal(nonNil(r.FailingTests))
	if err != nil {
		return fmt.Errorf("run store: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.FrontDoor, r.Kind, r.Status, r.Started.UnixMilli(), r.Duration.Milliseconds(), r.Rounds,
		r.TestsPassed, r.TestsFailed, r.StyleScore, r.TokensIn, r.TokensOut,
		r.ModelTime.Milliseconds(), r.SandboxTime.Milliseconds(), r.SandboxKills,
		r.FailedAgent, r.ErrorClass, string(failing))
	if err != nil {
		return fmt.Errorf("run store: append %s: %w", r.ID, err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Runs returns the runs started at or after since, oldest first.
func (s *Store) Runs(ctx context.Context, since time.Time) ([]Row, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, front_door, kind, status, started_ms, duration_ms, rounds,
		tests_passed, tests_failed, style_score, tokens_in, tokens_out, model_ms, sandbox_ms, sandbox_kills,
		failed_agent, error_class, failing_tests FROM runs WHERE started_ms >= ? ORDER BY started_ms, id`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("run store: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var started, dur, model, sb int64
		var failing string
		if err := rows.Scan(&r.ID, &r.FrontDoor, &r.Kind, &r.Status, &started, &dur, &r.Rounds,
			&r.TestsPassed, &r.TestsFailed, &r.StyleScore, &r.TokensIn, &r.TokensOut, &model, &sb, &r.SandboxKills,
			&r.FailedAgent, &r.ErrorClass, &failing); err != nil {
			return nil, fmt.Errorf("run store: %w", err)
		}
		r.Started = time.UnixMilli(started).UTC()
		r.Duration = time.Duration(dur) * time.Millisecond
		r.ModelTime = time.Duration(model) * time.Millisecond
		r.SandboxTime = time.Duration(sb) * time.Millisecond
		if err := json.Unmarshal([]byte(failing), &r.FailingTests); err != nil {
			return nil, fmt.Errorf("run store: run %s: failing tests: %w", r.ID, err)
		}
		if len(r.FailingTests) == 0 {
			r.FailingTests = nil
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Count is one entry of a failure-pattern table.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Day is one day's runs.
type Day struct {
	Date   string  `json:"date"` // YYYY-MM-DD, UTC
	Runs   int     `json:"runs"`
	Passed int     `json:"passed"`
	Rate   float64 `json:"success_rate"`
}

// Stats summarises a set of runs: what `r2c stats` prints and the
// dashboard draws.
type Stats struct {
	SchemaVersion int       `json:"schema_version"`
	Since         time.Time `json:"since"`
	Runs          int       `json:"runs"`
	Passed        int       `json:"passed"`
	Failed        int       `json:"failed"`
	Cancelled     int       `json:"cancelled"`
	Errored       int       `json:"errored"`
	SuccessRate   float64   `json:"success_rate"`
	ByFrontDoor   []Count   `json:"by_front_door"`
	// Failure patterns: which agent failed, which error class, which test
	// kinds fail most (a test's name without its test_ prefix and its
	// parameters, first word).
	FailedAgents []Count       `json:"failed_agents"`
	ErrorClasses []Count       `json:"error_classes"`
	TestKinds    []Count       `json:"failing_test_kinds"`
	PerDay       []Day         `json:"per_day"`
	MeanRounds   float64       `json:"mean_rounds"`
	MeanTokens   float64       `json:"mean_tokens"`
	MeanStyle    float64       `json:"mean_style_score"`
	SandboxTime  time.Duration `json:"sandbox_time"`
	SandboxKills int           `json:"sandbox_kills"`
	// Recent are the last runs, newest first, for the dashboard's table.
	Recent []Row `json:"recent"`
}

// Summarise computes Stats over rows (as returned by Runs).
func Summarise(rows []Row, since time.Time) Stats {
	st := Stats{SchemaVersion: SchemaVersion, Since: since.UTC()}
	fronts, agents, classes, kinds := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	days := map[string]*Day{}
	var rounds, tokens, styleSum float64
	implements := 0
	for _, r := range rows {
		st.Runs++
		switch r.Status {
		case "passed":
			st.Passed++
		case "failed":
			st.Failed++
		case "cancelled":
			st.Cancelled++
		default:
			st.Errored++
		}
		fronts[r.FrontDoor]++
		if r.FailedAgent != "" {
			agents[r.FailedAgent]++
		}
		if r.ErrorClass != "" && r.Status != "passed" {
			classes[r.ErrorClass]++
		}
		for _, t := range r.FailingTests {
			kinds[TestKind(t)]++
		}
		d := r.Started.UTC().Format("2006-01-02")
		if days[d] == nil {
			days[d] = &Day{Date: d}
		}
		days[d].Runs++
		if r.Status == "passed" {
			days[d].Passed++
		}
		if r.Kind == KindImplement {
			implements++
			rounds += float64(r.Rounds)
		}
		tokens += float64(r.TokensIn + r.TokensOut)
		styleSum += r.StyleScore
		st.SandboxTime += r.SandboxTime
		st.SandboxKills += r.SandboxKills
	}
	if st.Runs > 0 {
		st.SuccessRate = float64(st.Passed) / float64(st.Runs)
		st.MeanTokens = tokens / float64(st.Runs)
		st.MeanStyle = styleSum / float64(st.Runs)
	}
	if implements > 0 {
		st.MeanRounds = rounds / float64(implements)
	}
	st.ByFrontDoor = counts(fronts)
	st.FailedAgents = counts(agents)
	st.ErrorClasses = counts(classes)
	st.TestKinds = counts(kinds)
	for _, d := range days {
		d.Rate = float64(d.Passed) / float64(d.Runs)
		st.PerDay = append(st.PerDay, *d)
	}
	sort.Slice(st.PerDay, func(i, j int) bool { return st.PerDay[i].Date < st.PerDay[j].Date })
	for i := len(rows) - 1; i >= 0 && len(st.Recent) < 20; i-- {
		st.Recent = append(st.Recent, rows[i])
	}
	return st
}

// counts sorts a histogram by count, then name, for stable output.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// TestKind reduces a pytest node id to the kind of check it makes:
// "test_attention.py::TestX::test_shape_masked[2]" → "shape". Generated
// tests are named after what they check, so the first word of the test
// function's name groups them across runs.
func TestKind(nodeID string) string {
	name := nodeID
	if i := strings.LastIndex(name, "::"); i >= 0 {
		name = name[i+2:]
	}
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	name = strings.TrimPrefix(name, "test_")
	if i := strings.IndexByte(name, '_'); i > 0 {
		name = name[:i]
	}
	if name == "" {
		return "unnamed"
	}
	return name
}

// ParseSince reads a look-back window: a Go duration ("36h", "90m") or a
// number of days or weeks ("7d", "2w").
func ParseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("%q is not a window such as 7d, 2w or 36h", s)
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a window such as 7d, 2w or 36h", s)
	}
	return d, nil
}
