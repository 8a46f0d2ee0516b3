package eval

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Targets of the design, as shares.
const (
	GoalExecution    = 0.95
	GoalStyle        = 0.85
	GoalAccuracy     = 0.80
	GoalProductivity = 0.60
)

// Aggregation states how the headline numbers are formed, in results.json
// and both reports: the same numbers aggregated otherwise differ a lot.
const Aggregation = "each task counts once: a task's value is the mean over its samples, the suite's value the unweighted mean over the scored tasks, with a 95% Student-t interval over tasks; tasks whose reference fails are listed and not scored; a failed sample scores 0 on accuracy and execution"

// Results is results.json.
type Results struct {
	SchemaVersion int          `json:"schema_version"`
	Suite         string       `json:"suite"`
	Model         string       `json:"model"`
	Endpoint      string       `json:"endpoint"`
	Profile       string       `json:"profile"`
	Created       time.Time    `json:"created"`
	Tasks         []TaskResult `json:"tasks"`
	Summary       Summary      `json:"summary"`
}

// TaskResult is one task over its samples.
type TaskResult struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Framework string `json:"framework"`
	// Scored is false when the task's reference failed or the task is
	// invalid; Error says why.
	Scored bool   `json:"scored"`
	Error  string `json:"error,omitempty"`
	// Means over the samples.
	ExecutionSuccess float64  `json:"execution_success"`
	ResearchAccuracy float64  `json:"research_accuracy"`
	StyleConsistency *float64 `json:"style_consistency"`
	Rounds           float64  `json:"rounds"`
	TokensIn         float64  `json:"tokens_in"`
	TokensOut        float64  `json:"tokens_out"`
	ModelSeconds     float64  `json:"model_seconds"`
	WallSeconds      float64  `json:"wall_seconds"`
	ProductivityGain *float64 `json:"productivity_gain"`
	ManualMinutes    float64  `json:"manual_minutes,omitempty"`
	Samples          int      `json:"samples"`
	// Correct counts samples passing every hidden test; PassAtK maps k to
	// the unbiased pass@k.
	Correct     int                `json:"correct"`
	PassAtK     map[string]float64 `json:"pass_at_k"`
	HiddenTests int                `json:"hidden_tests"`
	// Failures counts the samples' failure kinds.
	Failures      map[string]int `json:"failures,omitempty"`
	SampleResults []*Sample      `json:"sample_results"`
}

// Summary aggregates the scored tasks.
type Summary struct {
	Tasks       int                `json:"tasks"`
	Scored      int                `json:"scored"`
	Samples     int                `json:"samples"`
	Aggregation string             `json:"aggregation"`
	Metrics     map[string]Stat    `json:"metrics"`
	PassAtK     map[string]float64 `json:"pass_at_k"`
	Targets     []Target           `json:"targets"`
	TokensIn    int                `json:"tokens_in"`
	TokensOut   int                `json:"tokens_out"`
	WallSeconds float64            `json:"wall_seconds"`
	Failures    map[string]int     `json:"failures,omitempty"`
	// Unscored lists the tasks left out of the means, with the reason.
	Unscored []string `json:"unscored,omitempty"`
}

// Target is one of the design's four targets against its goal.
type Target struct {
	Name  string   `json:"name"`
	Goal  float64  `json:"goal"`
	Value *float64 `json:"value"`
	Met   *bool    `json:"met"`
	// Note explains a missing value.
	Note string `json:"note,omitempty"`
}

// Metric names in Summary.Metrics.
const (
	MetricExecution    = "execution_success"
	MetricAccuracy     = "research_accuracy"
	MetricStyle        = "style_consistency"
	MetricProductivity = "productivity_gain"
	MetricRounds       = "rounds"
	MetricTokensIn     = "tokens_in"
	MetricTokensOut    = "tokens_out"
	MetricWall         = "wall_seconds"
	MetricModel        = "model_seconds"
)

// Summarise turns samples into Results.
func Summarise(suite, model, endpoint, profile string, tasks []*Task, refs map[string]*Reference, samples []*Sample) *Results {
	res := &Results{SchemaVersion: SchemaVersion, Suite: suite, Model: model, Endpoint: endpoint, Profile: profile, Created: time.Now().UTC()}
	byTask := map[string][]*Sample{}
	for _, s := range samples {
		byTask[s.Task] = append(byTask[s.Task], s)
	}
	per := map[string][]float64{}
	passK := map[string][]float64{}
	sum := &res.Summary
	sum.Aggregation, sum.Tasks, sum.Failures = Aggregation, len(tasks), map[string]int{}
	for _, t := range tasks {
		ss := byTask[t.ID]
		sort.Slice(ss, func(i, j int) bool { return ss[i].Index < ss[j].Index })
		tr := TaskResult{ID: t.ID, Title: t.Title, Framework: t.Framework, Samples: len(ss), SampleResults: ss, PassAtK: map[string]float64{}, ManualMinutes: t.ManualMinutes, Failures: map[string]int{}}
		ref := refs[t.ID]
		tr.Scored = t.Err == nil && ref != nil && ref.OK()
		switch {
		case t.Err != nil:
			tr.Error = t.Err.Error()
		case ref == nil:
			tr.Error = "the reference was not checked"
		case !ref.OK():
			tr.Error = ref.Error
		default:
			tr.HiddenTests = ref.Total
		}
		var style, gain []float64
		for _, s := range ss {
			sum.Samples++
			sum.TokensIn += s.TokensIn
			sum.TokensOut += s.TokensOut
			sum.WallSeconds += s.WallSeconds
			if s.Failure != "" {
				tr.Failures[s.Failure]++
				sum.Failures[s.Failure]++
			}
			if s.ExecutionSuccess {
				tr.ExecutionSuccess++
			}
			tr.ResearchAccuracy += s.ResearchAccuracy
			tr.Rounds += float64(s.Rounds)
			tr.TokensIn += float64(s.TokensIn)
			tr.TokensOut += float64(s.TokensOut)
			tr.ModelSeconds += s.ModelSeconds
			tr.WallSeconds += s.WallSeconds
			if s.StyleConsistency != nil {
				style = append(style, *s.StyleConsistency)
			}
			if s.ProductivityGain != nil {
				gain = append(gain, *s.ProductivityGain)
			}
			if s.Correct() {
				tr.Correct++
			}
		}
		if n := float64(len(ss)); n > 0 {
			for _, p := range []*float64{&tr.ExecutionSuccess, &tr.ResearchAccuracy, &tr.Rounds, &tr.TokensIn, &tr.TokensOut, &tr.ModelSeconds, &tr.WallSeconds} {
				*p /= n
			}
			for _, k := range passKs(len(ss)) {
				tr.PassAtK[fmt.Sprint(k)] = PassAtK(len(ss), tr.Correct, k)
			}
		}
		if len(style) > 0 {
			m := mean(style)
			tr.StyleConsistency = &m
		}
		if len(gain) > 0 {
			m := mean(gain)
			tr.ProductivityGain = &m
		}
		if len(tr.Failures) == 0 {
			tr.Failures = nil
		}
		if !tr.Scored {
			sum.Unscored = append(sum.Unscored, t.ID+": "+firstLine(tr.Error))
		} else if len(ss) > 0 {
			sum.Scored++
			per[MetricExecution] = append(per[MetricExecution], tr.ExecutionSuccess)
			per[MetricAccuracy] = append(per[MetricAccuracy], tr.ResearchAccuracy)
			if tr.StyleConsistency != nil {
				per[MetricStyle] = append(per[MetricStyle], *tr.StyleConsistency)
			}
			if tr.ProductivityGain != nil {
				per[MetricProductivity] = append(per[MetricProductivity], *tr.ProductivityGain)
			}
			per[MetricRounds] = append(per[MetricRounds], tr.Rounds)
			per[MetricTokensIn] = append(per[MetricTokensIn], tr.TokensIn)
			per[MetricTokensOut] = append(per[MetricTokensOut], tr.TokensOut)
			per[MetricWall] = append(per[MetricWall], tr.WallSeconds)
			per[MetricModel] = append(per[MetricModel], tr.ModelSeconds)
			for k, v := range tr.PassAtK {
				passK[k] = append(passK[k], v)
			}
		}
		res.Tasks = append(res.Tasks, tr)
	}
	sum.Metrics = map[string]Stat{}
	for name, xs := range per {
		sum.Metrics[name] = MeanCI(xs)
	}
	sum.PassAtK = map[string]float64{}
	for k, xs := range passK {
		if len(xs) == sum.Scored { // only ks every scored task has samples for
			sum.PassAtK[k] = mean(xs)
		}
	}
	if len(sum.Failures) == 0 {
		sum.Failures = nil
	}
	sum.Targets = targets(sum)
	return res
}

// passKs are the k reported for n samples: 1, 5, 10 and n, up to n.
func passKs(n int) []int {
	var ks []int
	for _, k := range []int{1, 5, 10, n} {
		if k <= n && (len(ks) == 0 || ks[len(ks)-1] < k) {
			ks = append(ks, k)
		}
	}
	return ks
}

func targets(sum *Summary) []Target {
	list := []struct {
		name, metric string
		goal         float64
		none         string
	}{
		{"code execution success", MetricExecution, GoalExecution, "no scored task"},
		{"style consistency", MetricStyle, GoalStyle, "no code came back to score"},
		{"research accuracy", MetricAccuracy, GoalAccuracy, "no scored task"},
		{"productivity gain", MetricProductivity, GoalProductivity, "no task has a recorded manual time (manual_minutes in task.toml)"},
	}
	var out []Target
	for _, l := range list {
		t := Target{Name: l.name, Goal: l.goal}
		if st, ok := sum.Metrics[l.metric]; ok && st.N > 0 && !math.IsNaN(st.Mean) {
			v := st.Mean
			met := v >= l.goal
			t.Value, t.Met = &v, &met
		} else {
			t.Note = l.none
		}
		out = append(out, t)
	}
	return out
}
