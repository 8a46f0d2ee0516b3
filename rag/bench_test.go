package rag

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	chromem "github.com/philippgille/chromem-go"
)

// benchWords is the vocabulary synthetic documents are drawn from.
var benchWords = strings.Fields(`attention query key value softmax scale head layer norm residual
	dropout embedding token sequence batch gradient optimizer learning rate warmup cosine decay weight
	loss entropy logits expert router capacity balance adapter rank matrix update frozen merge encoder
	decoder convolution spectrogram contrastive temperature queue momentum negative positive augmentation
	crop noise mask train evaluate accuracy precision recall benchmark dataset shard loader checkpoint`)

func randomText(rng *rand.Rand, words int) string {
	var b strings.Builder
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(benchWords[rng.IntN(len(benchWords))])
	}
	return b.String()
}

// randomUnitVector returns a seeded random unit vector.
func randomUnitVector(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	normalize(v)
	return v
}

// syntheticIndex is an in-memory index of n chunks with random dim-long
// vectors, split between the two collections as a real workspace is
// (about a fifth papers).
func syntheticIndex(b *testing.B, n, dim int) *Index {
	b.Helper()
	ix, err := Create(b.TempDir(), namedEmbedder{"bench", dim})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	for i := range n {
		col, md := Code, map[string]string{"repo": "r", "path": fmt.Sprintf("pkg/m%d.py", i/10), "start_line": "1", "end_line": "20", "symbol": fmt.Sprintf("f%d", i)}
		if i%5 == 0 {
			col, md = Papers, map[string]string{"paper": "P", "file": "p.pdf", "section": fmt.Sprint(i % 17), "title": "T", "page": "3", "kind": "text"}
		}
		doc := chromem.Document{ID: fmt.Sprintf("c%07d", i), Metadata: md, Embedding: randomUnitVector(rng, dim), Content: randomText(rng, 60)}
		if err := ix.addChunk(ctx, col, doc); err != nil {
			b.Fatal(err)
		}
	}
	return ix
}

var sinkChunks []Chunk

// BenchmarkQuery measures Retrieve after embedding (all collections, k=5,
// de-duplication and source building included) over n chunks of
// 384-dimensional vectors, and reports the median latency, the recall@10
// of the int8 scan with re-ranking against the exact float32 search on the
// same index and queries, and the memory per chunk.
func BenchmarkQuery(b *testing.B) {
	benchmarkSearch(b, true, func(ctx context.Context, ix *Index, q []float32) (err error) {
		sinkChunks, err = ix.retrieveVector(ctx, q, RetrieveOptions{K: 5})
		return err
	})
}

// reportRecall reports recall@10 of flatVectors.search against
// searchExact over every collection of ix and every query: the share of
// the exact top 10 that the search returns.
func reportRecall(b *testing.B, ix *Index, queries [][]float32) {
	found, total := 0, 0
	for _, name := range Collections {
		f := ix.flat[name]
		for _, q := range queries {
			exact := f.searchExact(q, 10, nil)
			got := map[int]bool{}
			for _, h := range f.search(q, 10, nil) {
				got[h.row] = true
			}
			for _, h := range exact {
				if got[h.row] {
					found++
				}
			}
			total += len(exact)
		}
	}
	b.ReportMetric(float64(found)/float64(total), "recall@10")
}

// reportVectorBytes reports the bytes per chunk of the vectors and query
// arrays: the float32 vector (held once, shared with chromem), its int8
// codes, scale and slice header.
func reportVectorBytes(b *testing.B, ix *Index) {
	var bytes, rows int
	for _, f := range ix.flat {
		rows += f.len()
		bytes += len(f.codes) + 4*len(f.scale) + int(unsafe.Sizeof([]float32(nil)))*len(f.vecs)
		for _, v := range f.vecs {
			bytes += 4 * len(v)
		}
	}
	b.ReportMetric(float64(bytes)/float64(rows), "vector-B/chunk")
}

// BenchmarkQueryChromem is the reference for BenchmarkQuery: the same
// searches through chromem-go's own QueryEmbedding (k*4 candidates from
// each collection, as Retrieve fetches), on the same documents.
func BenchmarkQueryChromem(b *testing.B) {
	benchmarkSearch(b, false, func(ctx context.Context, ix *Index, q []float32) (err error) {
		for _, name := range Collections {
			if sinkResults, err = ix.cols[name].QueryEmbedding(ctx, q, 5*candidatesPerResult, nil, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// benchmarkSearch times search over synthetic indexes of 10k and 100k
// chunks with the same seeded queries, so BenchmarkQuery and its chromem-go
// reference differ only in the search itself. For ours, it also reports
// the memory per chunk and the recall of the search against the exact one.
func benchmarkSearch(b *testing.B, ours bool, search func(ctx context.Context, ix *Index, q []float32) error) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ix := syntheticIndex(b, n, 384)
			runtime.GC()
			runtime.ReadMemStats(&after)
			rng := rand.New(rand.NewPCG(3, 4))
			queries := make([][]float32, 64)
			for i := range queries {
				queries[i] = randomUnitVector(rng, 384)
			}
			ctx := context.Background()
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if err := search(ctx, ix, queries[i%len(queries)]); err != nil {
					b.Fatal(err)
				}
				durations = append(durations, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, durations)
			if !ours {
				return
			}
			// Heap per chunk: the vector, its codes, the text, two copies of
			// the metadata (chromem's and the query arrays') and the ids.
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/chunk")
			reportVectorBytes(b, ix)
			reportRecall(b, ix, queries)
			runtime.KeepAlive(ix)
		})
	}
}

var sinkResults []chromem.Result

// BenchmarkQueryText is BenchmarkQuery with a text query through the
// offline embedder (feature extraction and IDF weighting included).
func BenchmarkQueryText(b *testing.B) {
	const n = 100_000
	ix := syntheticIndex(b, n, DefaultOfflineDim)
	ix.emb = NewOffline(DefaultOfflineDim)
	ix.df = newDocFreq()
	rng := rand.New(rand.NewPCG(5, 6))
	off := ix.emb.(*Offline)
	for range 2000 { // enough chunks counted for realistic IDF
		ix.df.add(off.terms(randomText(rng, 60)), +1)
	}
	ctx := context.Background()
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		chunks, err := ix.Retrieve(ctx, "how is the learning rate warmup and cosine decay scheduled", RetrieveOptions{K: 5})
		if err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
		sinkChunks = chunks
	}
	b.StopTimer()
	reportPercentiles(b, durations)
}

func reportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	ms := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))]) / 1e6 }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
}

var sinkVectors [][]float32

// BenchmarkOfflineEmbed measures the offline embedder alone on
// paragraph-sized texts (200 words).
func BenchmarkOfflineEmbed(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	texts := make([]string, 256)
	for i := range texts {
		texts[i] = randomText(rng, 200)
	}
	emb := NewOffline(0)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := emb.Embed(ctx, texts[i%len(texts):i%len(texts)+1])
		if err != nil {
			b.Fatal(err)
		}
		sinkVectors = v
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "chunks/s")
}

var sinkStats *UpdateStats

// BenchmarkIndexBuild measures a full build with the offline embedder: scan,
// hash, parse and chunk 200 Python files of 5 functions each, embed, and
// save atomically. It reports chunks per second.
func BenchmarkIndexBuild(b *testing.B) {
	repo := b.TempDir()
	rng := rand.New(rand.NewPCG(9, 10))
	for f := range 200 {
		var src strings.Builder
		for fn := range 5 {
			fmt.Fprintf(&src, "def fn_%d_%d(x, y):\n    \"\"\"%s\"\"\"\n", f, fn, randomText(rng, 12))
			for range 8 {
				fmt.Fprintf(&src, "    x = x * %d + y  # %s\n", rng.IntN(100), randomText(rng, 6))
			}
			src.WriteString("    return x\n\n\n")
		}
		p := filepath.Join(repo, fmt.Sprintf("pkg%d", f%10), fmt.Sprintf("mod%d.py", f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	chunks := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix, err := Create(b.TempDir(), NewOffline(0))
		if err != nil {
			b.Fatal(err)
		}
		st, err := ix.Update(ctx, Sources{Code: []string{repo}}, UpdateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		chunks += st.Chunks
		sinkStats = st
	}
	b.ReportMetric(float64(chunks)/b.Elapsed().Seconds(), "chunks/s")
}
