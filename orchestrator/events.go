package orchestrator

import (
	"sync"
	"time"
)

// Event kinds.
const (
	EventStarted  = "started"
	EventProgress = "progress"
	EventTokens   = "tokens"
	EventFinished = "finished"
	EventFailed   = "failed"
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
