package rag

/*
#include "qdot.h"
*/
import "C"

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"unsafe"

	"github.com/sourcegraph/conc"
)

func init() { avx2Kernel = C.r2c_qdot_init() == 1 }

// avx2Kernel reports whether the int8 scan runs on the AVX2 kernel.
var avx2Kernel bool

// flatVectors is what queries scan: a collection's vectors scalar-quantised
// to int8 in one contiguous row-major array, plus the exact vectors for
// re-ranking. chromem-go stays the store (documents, metadata,
// persistence), but its v0.7.0 exhaustive query walks a map of documents,
// sends every similarity through a mutex-guarded heap and reaches each
// vector through a pointer (51-92 ms over 100,000 chunks of 384
// dimensions, see BenchmarkQueryChromem).
//
// A float32 scan of 100,000 × 384 reads 154 MB per query; the int8 codes
// are a quarter of that, and the best rerankFactor×n rows by the
// approximate score are scored again exactly, so the results are the
// exact search's (recall@10 1.00 on random vectors, BenchmarkQuery reports
// it). Each vector is held once: vecs are the slices the chromem
// collection stores, not copies.
type flatVectors struct {
	dim  int
	ids  []string
	meta []map[string]string
	// vecs[r] is row r's unit vector, the same array the chromem document
	// holds.
	vecs [][]float32
	// codes holds len(ids)*dim int8s: row r is round(vecs[r][i]/scale[r]),
	// scaled so that its largest magnitude is 127.
	codes []int8
	scale []float32
	row   map[string]int // id → row
}

// rerankFactor is how many candidates per wanted result the int8 scan
// keeps for exact re-ranking. The int8 score of a 384-dimensional unit
// vector is within about 1e-3 of the exact one while neighbouring scores
// of the top ranks differ by more than that, so 4 leaves a wide margin.
const rerankFactor = 4

func newFlatVectors() *flatVectors { return &flatVectors{row: map[string]int{}} }

// add appends a row (replacing an existing one with the same id). vec must
// be normalised; it is kept, not copied, so the caller must not change it.
func (f *flatVectors) add(id string, meta map[string]string, vec []float32) {
	if f.dim == 0 {
		f.dim = len(vec)
	}
	r, ok := f.row[id]
	if !ok {
		r = len(f.ids)
		f.row[id] = r
		f.ids = append(f.ids, id)
		f.meta = append(f.meta, nil)
		f.vecs = append(f.vecs, nil)
		f.codes = append(f.codes, make([]int8, f.dim)...)
		f.scale = append(f.scale, 0)
	}
	f.meta[r], f.vecs[r] = meta, vec
	f.scale[r] = quantize(vec, f.codes[r*f.dim:(r+1)*f.dim])
}

// quantize writes the int8 codes of v to dst and returns the scale that
// maps a code back: v[i] ≈ float32(dst[i]) * scale.
func quantize(v []float32, dst []int8) float32 {
	var m float32
	for _, x := range v {
		m = max(m, abs32(x))
	}
	if m == 0 {
		clear(dst)
		return 0
	}
	s := m / 127
	inv := 127 / m
	for i, x := range v {
		dst[i] = int8(max(-127, min(127, math.Round(float64(x*inv)))))
	}
	return s
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// remove deletes a row by moving the last row into its place.
func (f *flatVectors) remove(id string) {
	r, ok := f.row[id]
	if !ok {
		return
	}
	last := len(f.ids) - 1
	dim := f.dim
	if r != last {
		f.ids[r], f.meta[r], f.vecs[r], f.scale[r] = f.ids[last], f.meta[last], f.vecs[last], f.scale[last]
		copy(f.codes[r*dim:(r+1)*dim], f.codes[last*dim:(last+1)*dim])
		f.row[f.ids[r]] = r
	}
	f.vecs[last], f.meta[last] = nil, nil // let the collector have them
	f.ids, f.meta, f.vecs = f.ids[:last], f.meta[:last], f.vecs[:last]
	f.codes, f.scale = f.codes[:last*dim], f.scale[:last]
	delete(f.row, id)
}

func (f *flatVectors) len() int { return len(f.ids) }

// hit is one scored row.
type hit struct {
	row   int
	score float32
}

// better orders hits best first, the lower row first among equal scores,
// so results do not depend on how the scan was split between workers.
func better(a, b hit) int {
	if c := cmp.Compare(b.score, a.score); c != 0 {
		return c
	}
	return cmp.Compare(a.row, b.row)
}

// minRowsPerWorker keeps small scans on one goroutine, where starting more
// would cost more than it saves.
const minRowsPerWorker = 8192

// search returns the n rows most similar to q (a unit vector), best first,
// among rows whose metadata has every key/value of where, with their exact
// scores.
func (f *flatVectors) search(q []float32, n int, where map[string]string) []hit {
	rows := f.len()
	if n <= 0 || rows == 0 || len(q) != f.dim {
		return nil
	}
	n = min(n, rows)
	m := n * rerankFactor
	if m >= rows {
		// Re-ranking would score every row exactly anyway.
		return f.searchExact(q, n, where)
	}
	qc := make([]int8, f.dim)
	quantize(q, qc)
	cands := f.parallel(m, func(lo, hi int) []hit { return f.scanInt8(qc, m, where, lo, hi) })
	for i := range cands {
		cands[i].score = dot(q, f.vecs[cands[i].row])
	}
	slices.SortFunc(cands, better)
	return cands[:min(n, len(cands))]
}

// searchExact is search by the exact float32 score of every row: the
// reference the int8 scan is measured against, and the search for
// collections too small to gain from it.
func (f *flatVectors) searchExact(q []float32, n int, where map[string]string) []hit {
	rows := f.len()
	if n <= 0 || rows == 0 || len(q) != f.dim {
		return nil
	}
	n = min(n, rows)
	return f.parallel(n, func(lo, hi int) []hit { return f.scanExact(q, n, where, lo, hi) })
}

// parallel splits [0, rows) between workers, runs scan on each part and
// returns the n best of their hits, best first.
func (f *flatVectors) parallel(n int, scan func(lo, hi int) []hit) []hit {
	rows := f.len()
	workers := min(runtime.GOMAXPROCS(0), (rows+minRowsPerWorker-1)/minRowsPerWorker)
	if workers <= 1 {
		return scan(0, rows)
	}
	parts := make([][]hit, workers)
	var wg conc.WaitGroup // re-panics a worker's panic in the caller
	per := (rows + workers - 1) / workers
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, rows)
		wg.Go(func() { parts[w] = scan(lo, hi) })
	}
	wg.Wait()
	var all []hit
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.SortFunc(all, better)
	return all[:min(n, len(all))]
}

// topN keeps the n best hits in a small sorted slice: n is a few dozen to
// a few hundred, and after the first rows almost every score falls below
// the threshold, so insertion beats a heap.
type topN struct {
	n   int
	top []hit
}

func newTopN(n, rows int) *topN { return &topN{n: n, top: make([]hit, 0, min(n, rows)+1)} }

// below reports whether a row scoring s cannot enter the list.
func (t *topN) below(s float32) bool { return len(t.top) == t.n && s <= t.top[t.n-1].score }

func (t *topN) insert(r int, s float32) {
	i := len(t.top)
	t.top = append(t.top, hit{})
	for i > 0 && t.top[i-1].score < s {
		t.top[i] = t.top[i-1]
		i--
	}
	t.top[i] = hit{r, s}
	if len(t.top) > t.n {
		t.top = t.top[:t.n]
	}
}

// scanBlock is how many rows the C kernel scores per call: large enough
// that the call costs nothing, small enough that the scores stay in L1.
const scanBlock = 1024

// scanInt8 keeps the n best rows of [lo, hi) by their int8 score.
func (f *flatVectors) scanInt8(qc []int8, n int, where map[string]string, lo, hi int) []hit {
	t := newTopN(n, hi-lo)
	dim := f.dim
	var buf [scanBlock]int32
	for b := lo; b < hi; b += scanBlock {
		cnt := min(scanBlock, hi-b)
		C.r2c_qdot((*C.int8_t)(unsafe.Pointer(&qc[0])), (*C.int8_t)(unsafe.Pointer(&f.codes[b*dim])),
			C.size_t(dim), C.size_t(cnt), (*C.int32_t)(unsafe.Pointer(&buf[0])))
		for i, d := range buf[:cnt] {
			r := b + i
			s := float32(d) * f.scale[r]
			if t.below(s) || (len(where) > 0 && !matches(f.meta[r], where)) {
				continue
			}
			t.insert(r, s)
		}
	}
	return t.top
}

// scanExact keeps the n best rows of [lo, hi) by their float32 score.
func (f *flatVectors) scanExact(q []float32, n int, where map[string]string, lo, hi int) []hit {
	t := newTopN(n, hi-lo)
	for r := lo; r < hi; r++ {
		s := dot(q, f.vecs[r])
		if t.below(s) || (len(where) > 0 && !matches(f.meta[r], where)) {
			continue
		}
		t.insert(r, s)
	}
	return t.top
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
