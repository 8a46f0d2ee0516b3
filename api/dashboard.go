package api

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/runstore"
)

// handleDashboard renders one self-contained HTML page (inline SVG, no
// script, no external resource) over the run store: success rate per day,
// failure patterns, rounds and tokens per run, sandbox use.
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) error {
	st, err := s.stats(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	return dashboardPage.Execute(w, dashboardData(st))
}

type bar struct {
	Label      string
	Value      float64
	Text       string
	X, Y, W, H float64
}

type chart struct {
	Title  string
	ID     string
	Bars   []bar
	Width  float64
	Height float64
	Empty  string
}

type dashboard struct {
	Stats     runstore.Stats
	Generated string
	Rate      string
	Charts    []chart
	Recent    []runstore.Row
}

// barChart lays out horizontal-axis bars scaled to the largest value (or
// to max when it is > 0, e.g. 1 for rates).
func barChart(id, title string, labels []string, values []float64, format func(float64) string, max float64) chart {
	c := chart{ID: id, Title: title, Width: 640, Height: 220, Empty: "no data yet"}
	if len(values) == 0 {
		return c
	}
	if max <= 0 {
		for _, v := range values {
			max = math.Max(max, v)
		}
	}
	if max <= 0 {
		max = 1
	}
	const top, bottom, left = 20.0, 40.0, 10.0
	slot := (c.Width - 2*left) / float64(len(values))
	for i, v := range values {
		h := (c.Height - top - bottom) * v / max
		w := math.Min(slot*0.8, 90) // one or two bars stay bars, not walls
		c.Bars = append(c.Bars, bar{Label: labels[i], Value: v, Text: format(v),
			X: left + float64(i)*slot + (slot-w)/2, W: w, Y: c.Height - bottom - h, H: h})
	}
	return c
}

func countChart(id, title string, counts []runstore.Count) chart {
	var labels []string
	var values []float64
	for i, c := range counts {
		if i == 12 {
			break
		}
		labels = append(labels, c.Name)
		values = append(values, float64(c.Count))
	}
	return barChart(id, title, labels, values, func(v float64) string { return fmt.Sprint(int(v)) }, 0)
}

func dashboardData(st runstore.Stats) dashboard {
	d := dashboard{Stats: st, Generated: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Rate: fmt.Sprintf("%.1f%%", 100*st.SuccessRate), Recent: st.Recent}
	var days []string
	var rates []float64
	for _, day := range st.PerDay {
		days = append(days, day.Date[5:])
		rates = append(rates, day.Rate)
	}
	d.Charts = append(d.Charts, barChart("success-per-day", "Success rate per day", days, rates,
		func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }, 1))
	d.Charts = append(d.Charts, countChart("failed-agents", "Failures by agent", st.FailedAgents))
	d.Charts = append(d.Charts, countChart("error-classes", "Failures by error class", st.ErrorClasses))
	d.Charts = append(d.Charts, countChart("test-kinds", "Failing test kinds", st.TestKinds))
	var ids []string
	var rounds, tokens []float64
	for i := len(st.Recent) - 1; i >= 0; i-- {
		r := st.Recent[i]
		if r.Kind != runstore.KindImplement {
			continue
		}
		ids = append(ids, shortID(r.ID))
		rounds = append(rounds, float64(r.Rounds))
		tokens = append(tokens, float64(r.TokensIn+r.TokensOut))
	}
	d.Charts = append(d.Charts, barChart("rounds-per-run", "Rounds per implement run (recent)", ids, rounds, func(v float64) string { return fmt.Sprint(int(v)) }, 0))
	d.Charts = append(d.Charts, barChart("tokens-per-run", "Tokens per implement run (recent)", ids, tokens, func(v float64) string { return fmt.Sprint(int(v)) }, 0))
	return d
}

func shortID(id string) string {
	if i := strings.LastIndexByte(id, '-'); i >= 0 && len(id)-i > 4 {
		return id[i+1:]
	}
	return id
}

var dashboardPage = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"dur": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"ts":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>r2c dashboard</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#1b1f24;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px} .sub{color:#57606a;margin-bottom:18px}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:18px}
.tile{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;min-width:120px}
.tile b{display:block;font-size:22px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(660px,1fr));gap:14px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px}
.card h2{font-size:15px;margin:0 0 6px}
svg text{font-size:11px;fill:#1b1f24} rect{fill:#2f81f7}
table{border-collapse:collapse;background:#fff;margin-top:16px} td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
.passed{color:#1a7f37}.failed,.error{color:#cf222e}.cancelled{color:#9a6700}
</style></head><body>
<h1>r2c dashboard</h1>
<div class="sub">Runs since {{ts .Stats.Since}} from every front door · generated {{.Generated}}</div>
<div class="tiles">
<div class="tile">Runs<b id="runs-total">{{.Stats.Runs}}</b></div>
<div class="tile">Passed<b id="runs-passed">{{.Stats.Passed}}</b></div>
<div class="tile">Failed<b id="runs-failed">{{.Stats.Failed}}</b></div>
<div class="tile">Errors<b id="runs-errored">{{.Stats.Errored}}</b></div>
<div class="tile">Success rate<b id="success-rate">{{.Rate}}</b></div>
<div class="tile">Mean rounds<b id="mean-rounds">{{pct .Stats.MeanRounds}}</b></div>
<div class="tile">Mean tokens<b id="mean-tokens">{{pct .Stats.MeanTokens}}</b></div>
<div class="tile">Sandbox time<b id="sandbox-time">{{dur .Stats.SandboxTime}}</b></div>
<div class="tile">Sandbox kills<b id="sandbox-kills">{{.Stats.SandboxKills}}</b></div>
</div>
<div class="grid">
{{range .Charts}}<div class="card" id="{{.ID}}"><h2>{{.Title}}</h2>
{{if .Bars}}<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Title}}">
{{range .Bars}}<g class="bar" data-label="{{.Label}}" data-value="{{.Value}}"><rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"></rect>
<text x="{{.X}}" y="{{.Y}}" dy="-3">{{.Text}}</text><text x="{{.X}}" y="205">{{.Label}}</text></g>
{{end}}</svg>{{else}}<p>{{.Empty}}</p>{{end}}</div>
{{end}}</div>
<table id="recent"><tr><th>run</th><th>front door</th><th>kind</th><th>status</th><th>started</th><th>rounds</th><th>tests</th><th>style</th><th>tokens</th><th>failed agent</th><th>error class</th></tr>
{{range .Recent}}<tr><td>{{.ID}}</td><td>{{.FrontDoor}}</td><td>{{.Kind}}</td><td class="{{.Status}}">{{.Status}}</td><td>{{ts .Started}}</td><td>{{.Rounds}}</td><td>{{.TestsPassed}}/{{.TestsFailed}}</td><td>{{pct .StyleScore}}</td><td>{{.TokensIn}}+{{.TokensOut}}</td><td>{{.FailedAgent}}</td><td>{{.ErrorClass}}</td></tr>
{{end}}</table>
</body></html>
`))
