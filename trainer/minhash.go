package trainer

import (
	"hash/fnv"
	"math/bits"
	"regexp"
	"sort"
)

// Near-duplicate detection as in BigCode's pipeline: MinHash signatures
// of 5-gram token shingles with 256 permutations, banded LSH to find
// candidate pairs, and a Jaccard estimate of at least 0.7 to call a pair
// near duplicates. 32 bands of 8 rows put the LSH threshold near
// (1/32)^(1/8) ≈ 0.65, just under 0.7, so few true pairs are missed;
// every candidate is then confirmed on the full signature.
const (
	numPerm      = 256
	shingleSize  = 5
	lshBands     = 32
	lshRows      = numPerm / lshBands
	nearDupJacc  = 0.7
	mersenne61   = (1 << 61) - 1
	minhashSeed  = 0x5eed_12c0_ffee_0001
	maxSignature = mersenne61
)

var reToken = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[^\sA-Za-z0-9_]`)

// permutations are fixed by a seed so signatures, and so the output, are
// the same on every run and machine.
var permA, permB = func() (a, b [numPerm]uint64) {
	x := uint64(minhashSeed)
	next := func() uint64 { // splitmix64
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	for i := range a {
		a[i] = next()%(mersenne61-1) + 1
		b[i] = next() % mersenne61
	}
	return
}()

// mulmod61 is a*b mod 2^61-1 without overflow.
func mulmod61(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	// a*b = hi*2^64 + lo; 2^64 ≡ 2^3 (mod 2^61-1)
	r := (lo & mersenne61) + (lo >> 61) + (hi << 3)
	for r >= mersenne61 {
		r -= mersenne61
	}
	return r
}

// signature is the MinHash signature of a text's 5-gram token shingles.
func signature(text string) []uint64 {
	toks := reToken.FindAllString(text, -1)
	sig := make([]uint64, numPerm)
	for i := range sig {
		sig[i] = maxSignature
	}
	add := func(gram []string) {
		h := fnv.New64a()
		for _, t := range gram {
			h.Write([]byte(t))
			h.Write([]byte{0})
		}
		x := h.Sum64() % mersenne61
		for i := range sig {
			v := mulmod61(permA[i], x) + permB[i]
			if v >= mersenne61 {
				v -= mersenne61
			}
			if v < sig[i] {
				sig[i] = v
			}
		}
	}
	if len(toks) < shingleSize {
		add(toks)
		return sig
	}
	for i := 0; i+shingleSize <= len(toks); i++ {
		add(toks[i : i+shingleSize])
	}
	return sig
}

// jaccardEstimate is the share of equal signature rows.
func jaccardEstimate(a, b []uint64) float64 {
	eq := 0
	for i := range a {
		if a[i] == b[i] {
			eq++
		}
	}
	return float64(eq) / float64(len(a))
}

// nearDuplicatePairs returns, for signatures in a fixed order, the pairs
// (i < j) whose estimated Jaccard similarity is at least 0.7, sorted.
func nearDuplicatePairs(sigs [][]uint64) [][2]int {
	type key struct {
		band int
		h    uint64
	}
	buckets := map[key][]int{}
	for i, s := range sigs {
		for b := 0; b < lshBands; b++ {
			h := fnv.New64a()
			for _, v := range s[b*lshRows : (b+1)*lshRows] {
				var buf [8]byte
				for k := range buf {
					buf[k] = byte(v >> (8 * k))
				}
				h.Write(buf[:])
			}
			k := key{b, h.Sum64()}
			buckets[k] = append(buckets[k], i)
		}
	}
	seen := map[[2]int]bool{}
	var out [][2]int
	for _, members := range buckets {
		for x := 0; x < len(members); x++ {
			for y := x + 1; y < len(members); y++ {
				p := [2]int{members[x], members[y]}
				if seen[p] {
					continue
				}
				seen[p] = true
				if jaccardEstimate(sigs[p[0]], sigs[p[1]]) >= nearDupJacc {
					out = append(out, p)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

// unionFind groups indices; the root of a group is its smallest index, so
// groups are the same whatever order pairs are joined in.
type unionFind []int

func newUnionFind(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = i
	}
	return u
}

func (u unionFind) find(i int) int {
	for u[i] != i {
		u[i] = u[u[i]]
		i = u[i]
	}
	return i
}

func (u unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if ra < rb {
		u[rb] = ra
	} else {
		u[ra] = rb
	}
}
