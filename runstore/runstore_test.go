package runstore

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestAppendAndReadBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), ".r2c", FileName)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	want := Row{ID: "a", FrontDoor: FrontDoorAPI, Kind: KindImplement, Status: "failed", Started: start,
		Duration: 1500 * time.Millisecond, Rounds: 3, TestsPassed: 2, TestsFailed: 1, StyleScore: 88.5,
		TokensIn: 900, TokensOut: 300, ModelTime: 700 * time.Millisecond, SandboxTime: 200 * time.Millisecond,
		SandboxKills: 1, FailedAgent: "validator", ErrorClass: "AssertionError",
		FailingTests: []string{"test_attention.py::test_scaling"}}
	if err := s.Append(ctx, want); err != nil {
		t.Fatal(err)
	}
	// Appending the same id again replaces the row instead of counting it twice.
	if err := s.Append(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path) // persisted, read by a new handle
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Runs(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
	if later, _ := s.Runs(ctx, start.Add(time.Hour)); len(later) != 0 {
		t.Fatalf("since filter kept %d rows", len(later))
	}
}

func TestAppendRefusesIncompleteRows(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(context.Background(), Row{ID: "x"}); err == nil {
		t.Fatal("a row without front door, kind and status was stored")
	}
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	// Two handles stand for two processes (CLI and language server).
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func(i int, s *Store) {
			defer wg.Done()
			r := Row{ID: fmt.Sprint(i), FrontDoor: FrontDoorCLI, Kind: KindValidate, Status: "passed", Started: time.Unix(int64(i), 0)}
			if err := s.Append(context.Background(), r); err != nil {
				t.Error(err)
			}
		}(i, s)
	}
	wg.Wait()
	rows, err := a.Runs(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 40 {
		t.Fatalf("%d rows after 40 concurrent appends", len(rows))
	}
}

func TestSummarise(t *testing.T) {
	day1 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	rows := []Row{
		{ID: "1", FrontDoor: FrontDoorCLI, Kind: KindImplement, Status: "passed", Started: day1, Rounds: 1, TokensIn: 100, TokensOut: 50, StyleScore: 90},
		{ID: "2", FrontDoor: FrontDoorAPI, Kind: KindImplement, Status: "failed", Started: day1.Add(time.Hour), Rounds: 3, TokensIn: 300, TokensOut: 150, StyleScore: 70,
			FailedAgent: "validator", ErrorClass: "AssertionError", FailingTests: []string{"t.py::test_shape_masked[1]", "t.py::TestA::test_shape", "t.py::test_gradient"}},
		{ID: "3", FrontDoor: FrontDoorLSP, Kind: KindValidate, Status: "error", Started: day2, ErrorClass: "unreachable", SandboxKills: 2, SandboxTime: time.Second},
		{ID: "4", FrontDoor: FrontDoorCLI, Kind: KindValidate, Status: "passed", Started: day2, StyleScore: 80},
	}
	st := Summarise(rows, day1)
	if st.Runs != 4 || st.Passed != 2 || st.Failed != 1 || st.Errored != 1 || st.SuccessRate != 0.5 {
		t.Fatalf("totals %+v", st)
	}
	if st.MeanRounds != 2 { // over the two implement runs
		t.Errorf("mean rounds %v, want 2", st.MeanRounds)
	}
	if st.MeanTokens != 150 || st.MeanStyle != 60 {
		t.Errorf("mean tokens %v style %v", st.MeanTokens, st.MeanStyle)
	}
	wantKinds := []Count{{"shape", 2}, {"gradient", 1}}
	if !reflect.DeepEqual(st.TestKinds, wantKinds) {
		t.Errorf("test kinds %v, want %v", st.TestKinds, wantKinds)
	}
	wantClasses := []Count{{"AssertionError", 1}, {"unreachable", 1}}
	if !reflect.DeepEqual(st.ErrorClasses, wantClasses) {
		t.Errorf("error classes %v", st.ErrorClasses)
	}
	if !reflect.DeepEqual(st.FailedAgents, []Count{{"validator", 1}}) {
		t.Errorf("failed agents %v", st.FailedAgents)
	}
	wantDays := []Day{{"2026-12-01", 2, 1, 0.5}, {"2026-12-02", 2, 1, 0.5}}
	if !reflect.DeepEqual(st.PerDay, wantDays) {
		t.Errorf("per day %v", st.PerDay)
	}
	if st.SandboxKills != 2 || st.SandboxTime != time.Second {
		t.Errorf("sandbox %v %v", st.SandboxKills, st.SandboxTime)
	}
	if len(st.Recent) != 4 || st.Recent[0].ID != "4" {
		t.Errorf("recent should be newest first: %v", st.Recent)
	}
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path); err == nil {
		t.Fatal("a store from a newer r2c was opened")
	}
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "1.5d": 36 * time.Hour, "90m": 90 * time.Minute} {
		got, err := ParseSince(in)
		if err != nil || got != want {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "7x", "7dd", "0d", "abc"} {
		if _, err := ParseSince(bad); err == nil {
			t.Errorf("ParseSince(%q) accepted", bad)
		}
	}
}
