package rag

import (
	"runtime"
	"sort"

	"github.com/sourcegraph/conc"
)

// flatVectors is a collection's vectors in one contiguous row-major array,
// the structure queries scan. chromem-go stays the store (documents,
// metadata, persistence), but its v0.7.0 exhaustive query walks a map of
// documents, sends every similarity through a mutex-guarded heap and
// reaches each vector through a pointer; over 100,000 chunks of 384
// dimensions it took 6 to 22 times longer than this scan on a busy 2-core
// machine (p50 92-223 ms against 10-18 ms; see BenchmarkQuery and
// bench/rag.sh).
type flatVectors struct {
	dim  int
	ids  []string
	meta []map[string]string
	vecs []float32      // len(ids)*dim
	row  map[string]int // id → row
}

func newFlatVectors() *flatVectors { return &flatVectors{row: map[string]int{}} }

// add appends a row (replacing an existing one with the same id). vec must
// be normalised.
func (f *flatVectors) add(id string, meta map[string]string, vec []float32) {
	if f.dim == 0 {
		f.dim = len(vec)
	}
	if r, ok := f.row[id]; ok {
		f.meta[r] = meta
		copy(f.vecs[r*f.dim:(r+1)*f.dim], vec)
		return
	}
	f.row[id] = len(f.ids)
	f.ids = append(f.ids, id)
	f.meta = append(f.meta, meta)
	f.vecs = append(f.vecs, vec...)
}

// remove deletes a row by moving the last row into its place.
func (f *flatVectors) remove(id string) {
	r, ok := f.row[id]
	if !ok {
		return
	}
	last := len(f.ids) - 1
	if r != last {
		f.ids[r], f.meta[r] = f.ids[last], f.meta[last]
		copy(f.vecs[r*f.dim:(r+1)*f.dim], f.vecs[last*f.dim:(last+1)*f.dim])
		f.row[f.ids[r]] = r
	}
	f.ids, f.meta, f.vecs = f.ids[:last], f.meta[:last], f.vecs[:last*f.dim]
	delete(f.row, id)
}

func (f *flatVectors) len() int { return len(f.ids) }

// hit is one scored row.
type hit struct {
	row   int
	score float32
}

// minRowsPerWorker keeps small scans on one goroutine, where starting more
// would cost more than it saves.
const minRowsPerWorker = 8192

// search returns the n rows most similar to q (a unit vector), best first,
// among rows whose metadata has every key/value of where.
func (f *flatVectors) search(q []float32, n int, where map[string]string) []hit {
	rows := f.len()
	if n <= 0 || rows == 0 || len(q) != f.dim {
		return nil
	}
	n = min(n, rows) // scan allocates n+1 per worker: never more than the rows
	workers := min(runtime.GOMAXPROCS(0), (rows+minRowsPerWorker-1)/minRowsPerWorker)
	if workers <= 1 {
		return f.scan(q, n, where, 0, rows)
	}
	parts := make([][]hit, workers)
	var wg conc.WaitGroup // re-panics a worker's panic in the caller
	per := (rows + workers - 1) / workers
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, rows)
		wg.Go(func() { parts[w] = f.scan(q, n, where, lo, hi) })
	}
	wg.Wait()
	var all []hit
	for _, p := range parts {
		all = append(all, p...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].score > all[j].score })
	return all[:min(n, len(all))]
}

// scan keeps the n best rows of [lo, hi) in a small sorted slice: n is a
// few dozen at most, so insertion beats a heap.
func (f *flatVectors) scan(q []float32, n int, where map[string]string, lo, hi int) []hit {
	top := make([]hit, 0, min(n, hi-lo)+1)
	dim := f.dim
	for r := lo; r < hi; r++ {
		s := dot(q, f.vecs[r*dim:(r+1)*dim])
		if len(top) == n && s <= top[n-1].score {
			continue
		}
		if len(where) > 0 && !matches(f.meta[r], where) {
			continue
		}
		i := len(top)
		top = append(top, hit{})
		for i > 0 && top[i-1].score < s {
			top[i] = top[i-1]
			i--
		}
		top[i] = hit{r, s}
		if len(top) > n {
			top = top[:n]
		}
	}
	return top
}

func matches(md, where map[string]string) bool {
	for k, v := range where {
		if md[k] != v {
			return false
		}
	}
	return true
}

// dot is the inner product of two equally long vectors, unrolled with four
// accumulators so the additions do not wait on each other.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x, y := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += x[0]*y[0] + x[4]*y[4]
		s1 += x[1]*y[1] + x[5]*y[5]
		s2 += x[2]*y[2] + x[6]*y[6]
		s3 += x[3]*y[3] + x[7]*y[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
