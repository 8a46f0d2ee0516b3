package eval

import "math"

// PassAtK is the unbiased estimator of pass@k from n samples of which c are
// correct (Chen et al., 2021): 1 − C(n−c, k)/C(n, k), computed as the
// product 1 − ∏_{i=n−c+1}^{n} (1 − k/i) for numerical stability; 1 when
// n − c < k. It is defined for 1 ≤ k ≤ n.
func PassAtK(n, c, k int) float64 {
	if k < 1 || k > n || c < 0 || c > n {
		return math.NaN()
	}
	if n-c < k {
		return 1
	}
	prod := 1.0
	for i := n - c + 1; i <= n; i++ {
		prod *= 1 - float64(k)/float64(i)
	}
	return 1 - prod
}

// Stat is a mean with its 95% confidence interval.
type Stat struct {
	Mean float64 `json:"mean"`
	// Low and High bound the 95% interval (Student's t over the values);
	// equal to Mean when N < 2, where no interval can be given.
	Low  float64 `json:"ci_low"`
	High float64 `json:"ci_high"`
	N    int     `json:"n"`
	SD   float64 `json:"sd"`
}

// MeanCI returns the mean of xs and its 95% t-interval.
func MeanCI(xs []float64) Stat {
	n := len(xs)
	if n == 0 {
		return Stat{}
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(n)
	st := Stat{Mean: mean, Low: mean, High: mean, N: n}
	if n < 2 {
		return st
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	st.SD = math.Sqrt(ss / float64(n-1))
	half := tCritical95(n-1) * st.SD / math.Sqrt(float64(n))
	st.Low, st.High = mean-half, mean+half
	return st
}

// tCritical95 is the two-sided 95% quantile of Student's t.
func tCritical95(df int) float64 {
	table := []float64{0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}
	switch {
	case df < 1:
		return math.NaN()
	case df < len(table):
		return table[df]
	case df <= 60:
		return 2.000
	case df <= 120:
		return 1.980
	}
	return 1.960
}

// permutationP is the two-sided p-value of the difference of means of a
// and b under random relabelling: exact when there are at most maxExact
// relabellings, else from a fixed-seed Monte Carlo sample of them.
func permutationP(a, b []float64) float64 {
	na, nb := len(a), len(b)
	if na == 0 || nb == 0 {
		return math.NaN()
	}
	all := append(append([]float64{}, a...), b...)
	total := 0.0
	for _, x := range all {
		total += x
	}
	observed := math.Abs(mean(a) - mean(b))
	n := na + nb
	extreme, count := 0, 0
	test := func(sumA float64) {
		d := math.Abs(sumA/float64(na) - (total-sumA)/float64(nb))
		if d >= observed-1e-12 {
			extreme++
		}
		count++
	}
	if binomial(n, na) <= maxExact {
		var rec func(start, left int, sum float64)
		rec = func(start, left int, sum float64) {
			if left == 0 {
				test(sum)
				return
			}
			for i := start; i <= n-left; i++ {
				rec(i+1, left-1, sum+all[i])
			}
		}
		rec(0, na, 0)
		return float64(extreme) / float64(count)
	}
	rng := newRand(1)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	for r := 0; r < monteCarlo; r++ {
		for i := 0; i < na; i++ { // partial Fisher-Yates
			j := i + rng.intn(n-i)
			idx[i], idx[j] = idx[j], idx[i]
		}
		sum := 0.0
		for i := 0; i < na; i++ {
			sum += all[idx[i]]
		}
		test(sum)
	}
	return float64(extreme+1) / float64(count+1)
}

// signFlipP is the two-sided p-value of a paired comparison: the mean of
// the differences under random sign flips (exact up to 2^16 flips).
func signFlipP(diffs []float64) float64 {
	n := len(diffs)
	if n == 0 {
		return math.NaN()
	}
	observed := math.Abs(mean(diffs))
	extreme, count := 0, 0
	test := func(sum float64) {
		if math.Abs(sum/float64(n)) >= observed-1e-12 {
			extreme++
		}
		count++
	}
	if n <= 16 {
		for mask := 0; mask < 1<<n; mask++ {
			sum := 0.0
			for i, d := range diffs {
				if mask&(1<<i) != 0 {
					sum -= d
				} else {
					sum += d
				}
			}
			test(sum)
		}
		return float64(extreme) / float64(count)
	}
	rng := newRand(2)
	for r := 0; r < monteCarlo; r++ {
		sum := 0.0
		for _, d := range diffs {
			if rng.intn(2) == 0 {
				sum -= d
			} else {
				sum += d
			}
		}
		test(sum)
	}
	return float64(extreme+1) / float64(count+1)
}

const (
	maxExact   = 200000
	monteCarlo = 20000
)

func binomial(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// rand is a small xorshift generator: Monte Carlo p-values must be the
// same on every run of the same inputs.
type rand struct{ s uint64 }

func newRand(seed uint64) *rand { return &rand{s: seed*0x9E3779B97F4A7C15 + 1} }

func (r *rand) intn(n int) int {
	r.s ^= r.s << 13
	r.s ^= r.s >> 7
	r.s ^= r.s << 17
	return int(r.s % uint64(n))
}
