package orchestrator

import (
	"fmt"
	"sync"
	"time"

	"github.com/r2c-ai/r2c/agents"
)

// Event kinds.
const (
	EventStarted  = "started"
	EventProgress = "progress"
	// EventTokens reports an agent's streamed answer so far: "N tokens,
	// R tokens/s" (at most every tokenEventEvery per task while it streams, and once
	// per call with the server's count when the answer is complete).
	EventTokens = "tokens"
	// EventContextTrimmed reports a cut made to fit a prompt into the
	// model's context: what was cut and how many tokens.
	EventContextTrimmed = "context_trimmed"
	EventFinished       = "finished"
	EventFailed         = "failed"
)

// Event is one step of a run as the CLI, the language server ($/progress)
// and the run record see it. Node is an agent ("analyzer", "planner",
// "implementer", "validator") or "run" for the whole run.
type Event struct {
	Run     string    `json:"run"`
	Node    string    `json:"node"`
	Kind    string    `json:"kind"`
	Percent float64   `json:"percent,omitempty"`
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
}

// Observer receives a run's events. OnEvent is called from one goroutine at
// a time, in order, and must not block for long: the run waits for it.
type Observer interface{ OnEvent(Event) }

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// OnEvent calls f(e).
func (f ObserverFunc) OnEvent(e Event) { f(e) }

// emitter serialises events from concurrent tasks to the observer and the
// run record.
type emitter struct {
	mu   sync.Mutex
	run  string
	obs  Observer
	sink func(Event)
}

func (em *emitter) emit(node, kind string, percent float64, msg string) {
	e := Event{Run: em.run, Node: node, Kind: kind, Percent: percent, Message: msg, Time: time.Now()}
	em.mu.Lock()
	defer em.mu.Unlock()
	if em.sink != nil {
		em.sink(e)
	}
	if em.obs != nil {
		em.obs.OnEvent(e)
	}
}

// tokenEventEvery bounds how often one agent's token count is reported.
const tokenEventEvery = 2 * time.Second

// tokenMeter counts one agent's streamed tokens per task (one per delta,
// as servers send them) and reports them with their rate while they
// arrive; the exchange's own count closes each call (runState.onExchange).
type tokenMeter struct {
	em    *emitter
	agent agents.Name

	mu    sync.Mutex
	tasks map[string]*taskTokens
}

type taskTokens struct {
	start, reported time.Time
	tokens          int
}

func newTokenMeter(em *emitter, agent agents.Name) *tokenMeter {
	return &tokenMeter{em: em, agent: agent, tasks: map[string]*taskTokens{}}
}

func (m *tokenMeter) add(taskID, delta string) {
	now := time.Now()
	m.mu.Lock()
	t := m.tasks[taskID]
	if t == nil {
		t = &taskTokens{start: now, reported: now}
		m.tasks[taskID] = t
	}
	t.tokens++
	report := now.Sub(t.reported) >= tokenEventEvery
	if report {
		t.reported = now
	}
	n, elapsed := t.tokens, now.Sub(t.start)
	m.mu.Unlock()
	if report {
		m.em.emit(string(m.agent), EventTokens, 0, tokenMessage(taskID, n, elapsed, "so far"))
	}
}

// done forgets a task's stream once its call returned.
func (m *tokenMeter) done(taskID string) {
	m.mu.Lock()
	delete(m.tasks, taskID)
	m.mu.Unlock()
}

func tokenMessage(taskID string, tokens int, elapsed time.Duration, note string) string {
	rate := 0.0
	if elapsed > 0 {
		rate = float64(tokens) / elapsed.Seconds()
	}
	msg := fmt.Sprintf("%d tokens, %.1f tokens/s", tokens, rate)
	if note != "" {
		msg += " " + note
	}
	if taskID != "" {
		msg = taskID + ": " + msg
	}
	return msg
}
