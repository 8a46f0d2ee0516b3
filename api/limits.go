package api

import (
	"context"
	"errors"
	"sync/atomic"
)

// errQueueFull is returned by admission.enter when every slot is busy and
// the queue holds as many waiters as it may.
var errQueueFull = errors.New("queue full")

// admission bounds the work the server holds: at most cap(slots) requests
// run at once (validations and implement runs share them: each holds a
// sandbox or the model server), and at most queue more wait. Work beyond
// that is refused at once (429) rather than parked without limit.
//
// Admission has two steps so that an implement run can be refused while
// its POST is still open but started in the background: enter reserves a
// place (running or queued) or fails at once; the ticket's wait then
// blocks until a slot is free.
type admission struct {
	slots       chan struct{}
	limit       int64 // slots + queue
	outstanding atomic.Int64
	running     atomic.Int64
}

func newAdmission(concurrent, queue int) *admission {
	return &admission{slots: make(chan struct{}, concurrent), limit: int64(concurrent + queue)}
}

// ticket is one admitted piece of work.
type ticket struct {
	a       *admission
	started atomic.Bool
	done    atomic.Bool
}

// enter admits one piece of work or returns errQueueFull.
func (a *admission) enter() (*ticket, error) {
	if a.outstanding.Add(1) > a.limit {
		a.outstanding.Add(-1)
		return nil, errQueueFull
	}
	return &ticket{a: a}, nil
}

// wait blocks until the ticket holds a slot, or returns ctx's error.
func (t *ticket) wait(ctx context.Context) error {
	select {
	case t.a.slots <- struct{}{}:
		t.started.Store(true)
		t.a.running.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives back the ticket's place and its slot if it held one. It
// may be called more than once.
func (t *ticket) release() {
	if !t.done.CompareAndSwap(false, true) {
		return
	}
	if t.started.Load() {
		t.a.running.Add(-1)
		<-t.a.slots
	}
	t.a.outstanding.Add(-1)
}

// queued is the number of admitted pieces of work waiting for a slot.
func (a *admission) queued() int64 { return a.outstanding.Load() - a.running.Load() }
