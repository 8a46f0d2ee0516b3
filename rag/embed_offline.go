package rag

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultOfflineDim is the offline embedder's default vector length.
const DefaultOfflineDim = 384

// Offline is the embedder that needs no server: a hashed bag of words, word
// bigrams and character 4-grams ("feature hashing"), weighted by sublinear
// term frequency on the document side and by TF-IDF on the query side, and
// L2-normalised. It is deterministic, so an index built on one machine reads
// the same on another.
//
// Inverse document frequencies come from the index's own chunks. They are
// applied to the query vector only (squared, which makes the dot product the
// TF-IDF score up to document length normalisation); document vectors depend
// on nothing but their text, so adding files never forces re-embedding the
// unchanged ones. The zero value is not usable; call NewOffline.
type Offline struct {
	dim int
}

// NewOffline returns an offline embedder producing dim-dimensional vectors
// (DefaultOfflineDim when dim <= 0).
func NewOffline(dim int) *Offline {
	if dim <= 0 {
		dim = DefaultOfflineDim
	}
	return &Offline{dim: dim}
}

// Name implements Embedder. The version suffix changes whenever features,
// weights or hashing change, so old indexes are rejected instead of misread.
func (o *Offline) Name() string { return "offline-ngram-v1" }

// Dim implements Embedder.
func (o *Offline) Dim() int { return o.dim }

// Embed implements Embedder: document vectors (sublinear TF, no IDF).
func (o *Offline) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var fs []uint64
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("offline embedder: %w", err)
		}
		fs = extractFeatures(t, fs[:0])
		out[i] = o.vector(fs, nil)
	}
	return out, nil
}

// embedQuery returns the query vector for text, weighted by the inverse
// document frequencies in df (nil or empty: plain TF).
func (o *Offline) embedQuery(text string, df *docFreq) []float32 {
	fs := extractFeatures(text, nil)
	if df == nil || df.N == 0 {
		df = nil
	}
	return o.vector(fs, df)
}

// terms returns the distinct feature hashes of text, for document
// frequencies.
func (o *Offline) terms(text string) []uint64 {
	fs := extractFeatures(text, nil)
	slices.Sort(fs)
	return slices.Compact(fs)
}

// vector folds features into a normalised dim-long vector. fs is sorted in
// place so equal features are counted together.
func (o *Offline) vector(fs []uint64, df *docFreq) []float32 {
	v := make([]float32, o.dim)
	slices.Sort(fs)
	for i := 0; i < len(fs); {
		j := i + 1
		for j < len(fs) && fs[j] == fs[i] {
			j++
		}
		h := fs[i]
		weight := kindWeights[h&kindMask] * (1 + float32(math.Log(float64(j-i))))
		i = j
		if df != nil {
			idf, seen := df.idf(h)
			if !seen {
				// A feature no chunk has can only match through hash
				// collisions: pure noise, and at the highest IDF.
				continue
			}
			weight *= idf * idf
		}
		bucket := int((h >> kindBits) % uint64(o.dim))
		if h>>63 == 1 {
			weight = -weight
		}
		v[bucket] += weight
	}
	normalize(v)
	return v
}

// A feature is a uint64: a hash of a word, a word bigram or a character
// n-gram, whose low kindBits bits say which of the three it is (and so its
// weight). Plain integers sort several times faster than structs, and
// sorting is most of the embedder's work.
//
// Weights: whole words carry the meaning, bigrams keep phrases ("learning
// rate") together, and character 4-grams let "normalise", "normalization"
// and "LayerNorm" meet.
const (
	kindBits = 2
	kindMask = 1<<kindBits - 1

	kindWord     = 1
	kindBigram   = 2
	kindCharGram = 3

	charGramSize = 4
)

var kindWeights = [4]float32{kindWord: 1.0, kindBigram: 0.7, kindCharGram: 0.25}

// extractFeatures appends the features of text to fs.
func extractFeatures(text string, fs []uint64) []uint64 {
	prev := ""
	forEachWord(text, func(raw string) {
		if stopWords[raw] {
			return
		}
		stem := stemWord(raw)
		fs = append(fs, featureHash(kindWord, stem, ""))
		if prev != "" {
			fs = append(fs, featureHash(kindBigram, prev, stem))
		}
		prev = stem
		if utf8.RuneCountInString(raw) >= charGramSize {
			fs = appendCharGrams(fs, raw)
		}
	})
	return fs
}

// appendCharGrams adds the character n-grams of "^word$".
func appendCharGrams(fs []uint64, word string) []uint64 {
	var buf [64]byte
	padded := append(append(append(buf[:0], '^'), word...), '$')
	// starts holds the byte offset of every rune of padded, and its end.
	var startsBuf [64]int
	starts := startsBuf[:0]
	for i := range string(padded) {
		starts = append(starts, i)
	}
	starts = append(starts, len(padded))
	for i := 0; i+charGramSize < len(starts); i++ {
		fs = append(fs, featureHashBytes(kindCharGram, padded[starts[i]:starts[i+charGramSize]]))
	}
	return fs
}

// forEachWord calls fn with each lower-cased word of text. Words are runs of
// letters and digits; identifiers are also split at underscores and at
// lower-to-upper case changes ("learningRate", "learning_rate" → "learning",
// "rate"), so prose and code share a vocabulary. LaTeX commands lose their
// backslash ("\alpha" → "alpha").
func forEachWord(text string, fn func(string)) {
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			fn(b.String())
			b.Reset()
		}
	}
	prevLower := false
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && prevLower {
				flush()
			}
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
			b.WriteRune(unicode.ToLower(r))
		default:
			prevLower = false
			flush()
		}
	}
	flush()
}

// stemWord strips common English inflections so that "scheduled",
// "schedules" and "scheduling" share a feature. It is deliberately crude:
// character n-grams catch what it misses.
func stemWord(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "s"):
		w = w[:len(w)-1]
	}
	switch {
	case (strings.HasSuffix(w, "ization") || strings.HasSuffix(w, "isation")) && len(w) > 8:
		w = w[:len(w)-5]
	case strings.HasSuffix(w, "ation") && len(w) > 7:
		w = w[:len(w)-5]
	case strings.HasSuffix(w, "ing") && len(w) > 5:
		w = w[:len(w)-3]
	case strings.HasSuffix(w, "ed") && len(w) > 4:
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ly") && len(w) > 5:
		w = w[:len(w)-2]
	}
	if len(w) > 4 {
		w = strings.TrimSuffix(w, "e")
	}
	// "normalis"/"normaliz": British and American spellings meet.
	if len(w) > 5 && strings.HasSuffix(w, "is") {
		w = w[:len(w)-1] + "z"
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the of in on for to and or is are was were be been being by with as at
		from that this these those it its we our us you your they them their there then than which what
		how why when where who whom does do did done can could should would will shall may might must
		into onto not no nor but if so such each also both all any some only very more most other
		about above below over under between through during before after again further here once
		has have had having i he she his her my me s t`) {
		m[w] = true
	}
	return m
}()

// featureHash hashes a feature kind and up to two words (FNV-1a, 64 bits,
// then a finaliser so both the bucket and the sign bits are well mixed).
func featureHash(kind uint64, a, b string) uint64 {
	h := uint64(14695981039346656037)
	h = (h ^ kind) * 1099511628211
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * 1099511628211
	}
	if b != "" {
		h = (h ^ ' ') * 1099511628211
		for i := 0; i < len(b); i++ {
			h = (h ^ uint64(b[i])) * 1099511628211
		}
	}
	return mix64(h)&^kindMask | uint64(kind)
}

func featureHashBytes(kind uint64, s []byte) uint64 {
	h := uint64(14695981039346656037)
	h = (h ^ kind) * 1099511628211
	for _, c := range s {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return mix64(h)&^kindMask | uint64(kind)
}

// mix64 is the splitmix64 finaliser.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// docFreq counts, per hashed feature, how many chunks of the index contain
// it. Features share a fixed space of 2^dfBits slots, so memory does not
// grow with the vocabulary past it (two features sharing a slot only blur
// their IDF a little); only the slots in use are stored, so that opening an
// index does not clear a 4 MiB table for a few thousand counts.
type docFreq struct {
	N      int64             // chunks counted
	counts map[uint32]uint32 // slot -> chunks with a feature in it; absent is 0
}

const dfBits = 20

func newDocFreq() *docFreq { return &docFreq{counts: map[uint32]uint32{}} }

func dfSlot(h uint64) uint32 { return uint32(h >> (64 - dfBits)) }

// add counts (delta = +1) or uncounts (delta = -1) one chunk's distinct terms.
func (d *docFreq) add(terms []uint64, delta int) {
	d.N += int64(delta)
	for _, h := range terms {
		slot := dfSlot(h)
		switch c := d.counts[slot]; {
		case delta > 0:
			d.counts[slot] = c + 1
		case c > 1:
			d.counts[slot] = c - 1
		default:
			delete(d.counts, slot)
		}
	}
	if d.N < 0 {
		d.N = 0
	}
}

// idf returns ln((N+1)/df) and whether any chunk has the feature.
func (d *docFreq) idf(h uint64) (float32, bool) {
	c := d.counts[dfSlot(h)]
	if c == 0 {
		return 0, false
	}
	return float32(math.Log(float64(d.N+1) / float64(c))), true
}
