package orchestrator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Everything queued before close is on disk when close returns, and a
// write that fails (here: a record file whose folder is a plain file) or
// panics is reported by close without stopping the writes queued after it.
func TestRecorderFlushesOnCloseAndSurfacesErrors(t *testing.T) {
	dir := t.TempDir()
	rec, err := newRecorder(dir, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rec.dir, "blocked"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec.writeFile("blocked/inner.json", []byte("{}"))
	rec.writes <- func() error { panic("disk on fire") }
	for i := range 600 { // more than the queue holds
		rec.event(Event{Node: "run", Kind: EventProgress, Percent: float64(i), Time: time.Now()})
	}
	rec.writeJSON("spec.json", map[string]int{"n": 1})
	err = rec.close()
	if err == nil || !strings.Contains(err.Error(), "blocked") || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("close = %v, want the failed write and the panic", err)
	}
	if b, err := os.ReadFile(filepath.Join(rec.dir, "spec.json")); err != nil || !strings.Contains(string(b), `"n": 1`) {
		t.Errorf("spec.json after close: %q, %v", b, err)
	}
	b, err := os.ReadFile(filepath.Join(rec.dir, "events.jsonl"))
	if err != nil || strings.Count(string(b), "\n") != 600 {
		t.Errorf("events.jsonl has %d lines, want 600 (%v)", strings.Count(string(b), "\n"), err)
	}
}

// A record name that would leave the run folder is refused and reported.
func TestRecorderStaysInsideItsFolder(t *testing.T) {
	dir := t.TempDir()
	rec, err := newRecorder(filepath.Join(dir, "runs"), "run-1")
	if err != nil {
		t.Fatal(err)
	}
	rec.code(1, []File{{Path: "../../../escaped.py", Content: []byte("x = 1\n")}, {Path: "/tmp/abs.py", Content: []byte("x = 1\n")}})
	if err := rec.close(); err == nil || !strings.Contains(err.Error(), "not a path inside the run folder") {
		t.Fatalf("close = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "escaped.py")); err == nil {
		t.Fatal("the record wrote outside its folder")
	}
}

// The correction loop keeps the best round: a passing one over any
// failing one, then more passed tests, fewer errors, a higher style score;
// on a complete tie the later round (the more corrected code) wins, and a
// later round that is worse never replaces an earlier one.
func TestBestRoundSelection(t *testing.T) {
	snap := func(round int, passed bool, tests, errs, style float64) *snapshot {
		return &snapshot{round: round, passed: passed, scoreOf: [3]float64{tests, -errs, style}}
	}
	rounds := []*snapshot{
		snap(1, false, 4, 1, 80),
		snap(2, false, 2, 3, 90), // worse: fewer tests pass
		snap(3, false, 4, 1, 80), // a tie with round 1
		snap(4, false, 4, 1, 70), // worse style only
	}
	var best *snapshot
	for _, s := range rounds {
		if best == nil || better(s, best) {
			best = s
		}
	}
	if best.round != 3 {
		t.Errorf("best round %d, want 3 (ties go to the later round, regressions never win)", best.round)
	}
	if !better(snap(5, true, 1, 0, 10), snap(6, false, 9, 0, 100)) || better(snap(6, false, 9, 0, 100), snap(5, true, 1, 0, 10)) {
		t.Error("a passing round must beat any failing one")
	}
}
