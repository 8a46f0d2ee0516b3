package eval

import (
	"math"
	"math/big"
	"testing"
)

// passAtKExact is 1 − C(n−c, k)/C(n, k) with exact big integers.
func passAtKExact(n, c, k int) float64 {
	if n-c < k {
		return 1
	}
	num := new(big.Int).Binomial(int64(n-c), int64(k))
	den := new(big.Int).Binomial(int64(n), int64(k))
	r, _ := new(big.Rat).SetFrac(num, den).Float64()
	return 1 - r
}

func TestPassAtKMatchesTheCombinatorialDefinition(t *testing.T) {
	for n := 1; n <= 30; n++ {
		for c := 0; c <= n; c++ {
			for k := 1; k <= n; k++ {
				if got, want := PassAtK(n, c, k), passAtKExact(n, c, k); math.Abs(got-want) > 1e-12 {
					t.Fatalf("pass@%d n=%d c=%d: %v, want %v", k, n, c, got, want)
				}
			}
		}
	}
	if math.Abs(PassAtK(10, 3, 1)-0.3) > 1e-15 {
		t.Errorf("pass@1 must be c/n: %v", PassAtK(10, 3, 1))
	}
	if !math.IsNaN(PassAtK(3, 1, 4)) {
		t.Error("k > n has no estimate")
	}
}

func TestMeanCI(t *testing.T) {
	st := MeanCI([]float64{1, 2, 3, 4})
	// sd = sqrt(5/3), t(3) = 3.182: half-width 3.182 * 1.29099 / 2.
	half := 3.182 * math.Sqrt(5.0/3) / 2
	if st.Mean != 2.5 || math.Abs(st.High-2.5-half) > 1e-9 || math.Abs(2.5-st.Low-half) > 1e-9 || st.N != 4 {
		t.Errorf("%+v, half-width want %v", st, half)
	}
	if one := MeanCI([]float64{0.7}); one.Low != 0.7 || one.High != 0.7 {
		t.Errorf("one value has no interval: %+v", one)
	}
}

func TestPermutationTests(t *testing.T) {
	// {1,1,1} vs {0,0,0}: of the C(6,3) = 20 relabellings only the
	// observed one and its mirror are as extreme: p = 2/20.
	if p := permutationP([]float64{1, 1, 1}, []float64{0, 0, 0}); math.Abs(p-0.1) > 1e-12 {
		t.Errorf("p = %v, want 0.1", p)
	}
	if p := permutationP([]float64{1, 0}, []float64{1, 0}); p != 1 {
		t.Errorf("equal groups: p = %v", p)
	}
	// Five positive paired differences: 2 of 32 sign patterns as extreme.
	if p := signFlipP([]float64{1, 2, 1, 3, 1}); math.Abs(p-2.0/32) > 1e-12 {
		t.Errorf("sign flip p = %v, want 1/16", p)
	}
	// Beyond the exact limit the Monte Carlo estimate is reproducible.
	a, b := make([]float64, 20), make([]float64, 20)
	for i := range a {
		a[i], b[i] = float64(i%3), float64(i%4)
	}
	if p1, p2 := permutationP(a, b), permutationP(a, b); p1 != p2 || p1 <= 0 || p1 > 1 {
		t.Errorf("Monte Carlo p %v %v", p1, p2)
	}
}

func TestCompareFindsTheBetterModel(t *testing.T) {
	mk := func(model string, acc []float64) *Results {
		var ss []*Sample
		for i, a := range acc {
			ss = append(ss, &Sample{Task: "t", Index: i, ResearchAccuracy: a, ExecutionSuccess: true, Rounds: 1})
		}
		return &Results{Model: model, Tasks: []TaskResult{{ID: "t", Scored: true, SampleResults: ss}}}
	}
	c := Compare(mk("base", []float64{0, 0, 0, 0, 0}), mk("adapter", []float64{1, 1, 1, 1, 1}))
	var acc, exe *Delta
	for i := range c.Tasks {
		switch c.Tasks[i].Metric {
		case MetricAccuracy:
			acc = &c.Tasks[i]
		case MetricExecution:
			exe = &c.Tasks[i]
		}
	}
	// 2 of C(10,5) = 252 relabellings: p = 0.0079.
	if acc == nil || acc.Verdict != "better" || math.Abs(acc.P-2.0/252) > 1e-12 {
		t.Errorf("accuracy delta %+v", acc)
	}
	if exe == nil || exe.Verdict != "same" {
		t.Errorf("execution delta %+v", exe)
	}
	one := Compare(mk("a", []float64{0}), mk("b", []float64{1}))
	for _, d := range one.Tasks {
		if d.Metric == MetricAccuracy && d.Verdict != "no test" {
			t.Errorf("one sample a side allows no test: %+v", d)
		}
	}
	if md := c.Markdown(); len(md) == 0 {
		t.Error("empty markdown")
	}
}
