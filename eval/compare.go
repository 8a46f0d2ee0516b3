package eval

import (
	"fmt"
	"math"
	"strings"
)

// compared are the metrics Compare reports, with the better direction.
var compared = []struct {
	name   string
	higher bool
	of     func(*Sample) (float64, bool)
}{
	{MetricExecution, true, func(s *Sample) (float64, bool) { return b2f(s.ExecutionSuccess), true }},
	{MetricAccuracy, true, func(s *Sample) (float64, bool) { return s.ResearchAccuracy, true }},
	{MetricStyle, true, func(s *Sample) (float64, bool) {
		if s.StyleConsistency == nil {
			return 0, false
		}
		return *s.StyleConsistency, true
	}},
	{MetricRounds, false, func(s *Sample) (float64, bool) { return float64(s.Rounds), true }},
	{MetricTokensIn, false, func(s *Sample) (float64, bool) { return float64(s.TokensIn), true }},
	{MetricTokensOut, false, func(s *Sample) (float64, bool) { return float64(s.TokensOut), true }},
	{MetricWall, false, func(s *Sample) (float64, bool) { return s.WallSeconds, true }},
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Delta is one metric of one task (or of the suite) in A and in B.
type Delta struct {
	Task   string  `json:"task"`
	Metric string  `json:"metric"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	NA     int     `json:"n_a"`
	NB     int     `json:"n_b"`
	// P is the two-sided p-value (permutation test over samples; over
	// tasks, a paired sign-flip test); NaN when the sizes allow no test.
	P float64 `json:"p"`
	// Verdict is "better", "worse", "same" or "no test" from B's side,
	// at the 5% level.
	Verdict string `json:"verdict"`
}

// Comparison is B against A.
type Comparison struct {
	A, B   string
	Tasks  []Delta // per task and metric
	Suite  []Delta // per metric over the tasks both scored
	Only   []string
	Levels string
}

// Compare sets results b against a: per task and metric from the samples,
// and over the suite from the paired per-task means.
func Compare(a, b *Results) *Comparison {
	c := &Comparison{A: a.Model, B: b.Model, Levels: "p from exact permutation tests (Monte Carlo beyond 200,000 relabellings); a difference counts at p < 0.05; one sample a side allows no test"}
	bTasks := map[string]*TaskResult{}
	for i := range b.Tasks {
		bTasks[b.Tasks[i].ID] = &b.Tasks[i]
	}
	paired := map[string][]float64{}
	pairA, pairB := map[string][]float64{}, map[string][]float64{}
	for i := range a.Tasks {
		ta := &a.Tasks[i]
		tb, ok := bTasks[ta.ID]
		if !ok {
			c.Only = append(c.Only, ta.ID+" only in A")
			continue
		}
		delete(bTasks, ta.ID)
		if !ta.Scored || !tb.Scored {
			c.Only = append(c.Only, ta.ID+" not scored in both")
			continue
		}
		for _, m := range compared {
			xa, xb := values(ta.SampleResults, m.of), values(tb.SampleResults, m.of)
			if len(xa) == 0 || len(xb) == 0 {
				continue
			}
			d := Delta{Task: ta.ID, Metric: m.name, A: mean(xa), B: mean(xb), NA: len(xa), NB: len(xb), P: math.NaN()}
			if len(xa)+len(xb) >= 3 {
				d.P = permutationP(xa, xb)
			}
			d.Verdict = verdict(d, m.higher)
			c.Tasks = append(c.Tasks, d)
			paired[m.name] = append(paired[m.name], d.B-d.A)
			pairA[m.name] = append(pairA[m.name], d.A)
			pairB[m.name] = append(pairB[m.name], d.B)
		}
	}
	for id := range bTasks {
		c.Only = append(c.Only, id+" only in B")
	}
	for _, m := range compared {
		diffs := paired[m.name]
		if len(diffs) == 0 {
			continue
		}
		d := Delta{Task: "suite", Metric: m.name, A: mean(pairA[m.name]), B: mean(pairB[m.name]), NA: len(diffs), NB: len(diffs), P: math.NaN()}
		if len(diffs) >= 2 {
			d.P = signFlipP(diffs)
		}
		d.Verdict = verdict(d, m.higher)
		c.Suite = append(c.Suite, d)
	}
	return c
}

func values(ss []*Sample, of func(*Sample) (float64, bool)) []float64 {
	var xs []float64
	for _, s := range ss {
		if v, ok := of(s); ok {
			xs = append(xs, v)
		}
	}
	return xs
}

func verdict(d Delta, higher bool) string {
	switch {
	case math.IsNaN(d.P):
		if d.A == d.B {
			return "same"
		}
		return "no test"
	case d.P >= 0.05 || d.A == d.B:
		return "same"
	case (d.B > d.A) == higher:
		return "better"
	}
	return "worse"
}

// Markdown renders the comparison.
func (c *Comparison) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# r2c eval compare\n\nA: `%s`  B: `%s`. %s.\n\n## Suite (paired over tasks)\n\n", c.A, c.B, c.Levels)
	table := func(ds []Delta) {
		b.WriteString("| task | metric | A | B | n A / B | p | B is |\n|---|---|---|---|---|---|---|\n")
		for _, d := range ds {
			p := "–"
			if !math.IsNaN(d.P) {
				p = fmt.Sprintf("%.3f", d.P)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d / %d | %s | %s |\n", d.Task, d.Metric, num(d.Metric, d.A), num(d.Metric, d.B), d.NA, d.NB, p, d.Verdict)
		}
	}
	table(c.Suite)
	b.WriteString("\n## Per task\n\n")
	table(c.Tasks)
	if len(c.Only) > 0 {
		b.WriteString("\nNot compared: " + strings.Join(c.Only, "; ") + "\n")
	}
	return b.String()
}

func num(metric string, v float64) string {
	switch metric {
	case MetricExecution, MetricAccuracy, MetricStyle:
		return pct(v)
	}
	return fmt.Sprintf("%.1f", v)
}
