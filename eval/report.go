package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/r2c-ai/r2c/internal/atomicfile"
)

// WriteReport writes results.json, report.md and report.html into dir.
func WriteReport(dir string, res *Results) error {
	if err := writeJSON(filepath.Join(dir, "results.json"), res); err != nil {
		return fmt.Errorf("eval: results.json: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, "report.md"), []byte(Markdown(res)), 0o644, nil); err != nil {
		return fmt.Errorf("eval: report.md: %w", err)
	}
	html, err := HTML(res)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "report.html"), html, 0o644, nil); err != nil {
		return fmt.Errorf("eval: report.html: %w", err)
	}
	return nil
}

// LoadResults reads a results.json (or the folder holding one).
func LoadResults(path string) (*Results, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "results.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("eval: %s is not a results.json: %w", path, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("eval: %s has schema_version %d; this r2c reads %d", path, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func pctp(v *float64) string {
	if v == nil {
		return "–"
	}
	return pct(*v)
}

// Markdown renders the report as Markdown.
func Markdown(r *Results) string {
	var b strings.Builder
	s := r.Summary
	fmt.Fprintf(&b, "# r2c eval: %s\n\n", r.Suite)
	fmt.Fprintf(&b, "Model `%s` at %s, %s UTC. Style profile: %s.\n\n", r.Model, r.Endpoint, r.Created.Format("2006-01-02 15:04"), r.Profile)
	fmt.Fprintf(&b, "%d tasks (%d scored), %d samples, %d tokens in, %d out, %.0f s of wall time.\n\n", s.Tasks, s.Scored, s.Samples, s.TokensIn, s.TokensOut, s.WallSeconds)
	b.WriteString("## Targets\n\n| target | goal | value | 95% interval | met |\n|---|---|---|---|---|\n")
	for _, t := range s.Targets {
		met, ci := "–", "–"
		if t.Met != nil {
			met = map[bool]string{true: "yes", false: "no"}[*t.Met]
			st := s.Metrics[targetMetric[t.Name]]
			ci = fmt.Sprintf("%s – %s (n=%d)", pct(st.Low), pct(st.High), st.N)
		}
		val := pctp(t.Value)
		if t.Note != "" {
			val = "not measured: " + t.Note
		}
		fmt.Fprintf(&b, "| %s | ≥ %s | %s | %s | %s |\n", t.Name, pct(t.Goal), val, ci, met)
	}
	if len(s.PassAtK) > 0 {
		b.WriteString("\npass@k (correct = every hidden test passes):")
		for _, k := range sortedK(s.PassAtK) {
			fmt.Fprintf(&b, " pass@%s %s", k, pct(s.PassAtK[k]))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nAggregation: %s.\n\n", s.Aggregation)
	b.WriteString("## Tasks\n\n| task | framework | samples | execution | accuracy | style | pass@1 | rounds | tokens in/out | wall s | failures |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, t := range r.Tasks {
		if !t.Scored {
			fmt.Fprintf(&b, "| %s | %s | %d | not scored: %s |||||||| \n", t.ID, t.Framework, t.Samples, mdCell(firstLine(t.Error)))
			continue
		}
		p1 := "–"
		if v, ok := t.PassAtK["1"]; ok {
			p1 = pct(v)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %.1f | %.0f / %.0f | %.1f | %s |\n", t.ID, t.Framework, t.Samples, pct(t.ExecutionSuccess), pct(t.ResearchAccuracy), pctp(t.StyleConsistency), p1, t.Rounds, t.TokensIn, t.TokensOut, t.WallSeconds, failureList(t.Failures))
	}
	var notes []string
	for _, t := range r.Tasks {
		for _, sm := range t.SampleResults {
			if sm.Explanation != "" {
				notes = append(notes, fmt.Sprintf("- %s#%d (%s): %s", t.ID, sm.Index, sm.Failure, mdCell(firstLine(sm.Explanation))))
			}
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n## Failures explained\n\n" + strings.Join(notes, "\n") + "\n")
	}
	return b.String()
}

// targetMetric maps a target's name to its metric.
var targetMetric = map[string]string{"code execution success": MetricExecution, "style consistency": MetricStyle, "research accuracy": MetricAccuracy, "productivity gain": MetricProductivity}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func failureList(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedK(m map[string]float64) []string {
	keys := sortedKeys(m)
	sort.Slice(keys, func(i, j int) bool {
		var a, b int
		fmt.Sscan(keys[i], &a)
		fmt.Sscan(keys[j], &b)
		return a < b
	})
	return keys
}

// bar is one bar of a chart.
type bar struct {
	Label string
	Value float64 // 0..1 of the axis
	Text  string
	Goal  float64 // 0 for none
	Color string
}

// svgBars draws a horizontal bar chart; goal lines where set.
func svgBars(title string, bars []bar) template.HTML {
	const rowH, left, width = 22, 170, 360
	h := len(bars)*rowH + 36
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s">`, left+width+90, h, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<text x="0" y="14" font-weight="bold">%s</text>`, template.HTMLEscapeString(title))
	for i, br := range bars {
		y := 24 + i*rowH
		v := math.Max(0, math.Min(1, br.Value))
		if math.IsNaN(br.Value) {
			v = 0
		}
		color := br.Color
		if color == "" {
			color = "#4c78a8"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="12">%s</text>`, left-6, y+14, template.HTMLEscapeString(br.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#eee"/>`, left, y+2, width, rowH-6)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, left, y+2, v*width, rowH-6, color)
		if br.Goal > 0 {
			gx := float64(left) + br.Goal*width
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#d62728" stroke-width="2"/>`, gx, gx, y, y+rowH-2)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12">%s</text>`, left+width+6, y+14, template.HTMLEscapeString(br.Text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from escaped parts above
}

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{"pct": pct, "pctp": pctp, "deref": func(b *bool) bool { return *b }, "fails": failureList, "passk": passKText}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>r2c eval: {{.R.Suite}}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f4f4f4}.no{color:#b00}.yes{color:#070}figure{display:inline-block;margin:0 2em 1.5em 0;vertical-align:top}small{color:#666}</style>
</head><body>
<h1>r2c eval: {{.R.Suite}}</h1>
<p>Model <code>{{.R.Model}}</code> at {{.R.Endpoint}}, {{.Created}} UTC. Style profile: {{.R.Profile}}.<br>
{{.R.Summary.Tasks}} tasks ({{.R.Summary.Scored}} scored), {{.R.Summary.Samples}} samples, {{.R.Summary.TokensIn}} tokens in, {{.R.Summary.TokensOut}} out.</p>
<h2>Targets</h2>
<figure>{{.Targets}}<figcaption><small>red line: the design's goal</small></figcaption></figure>
<table><tr><th>target</th><th>goal</th><th>value</th><th>95% interval over tasks</th><th>met</th></tr>
{{range .TargetRows}}<tr><td>{{.Name}}</td><td>≥ {{pct .Goal}}</td><td>{{if .Value}}{{pctp .Value}}{{else}}not measured: {{.Note}}{{end}}</td><td>{{.CI}}</td><td>{{if .Met}}{{if deref .Met}}<span class="yes">yes</span>{{else}}<span class="no">no</span>{{end}}{{else}}–{{end}}</td></tr>
{{end}}</table>
<p><small>{{.R.Summary.Aggregation}}.</small></p>
<h2>Per task</h2>
<figure>{{.Accuracy}}</figure><figure>{{.Execution}}</figure>
<figure>{{.Rounds}}</figure><figure>{{.Tokens}}</figure>
<table><tr><th>task</th><th>framework</th><th>samples</th><th>execution</th><th>accuracy</th><th>style</th><th>pass@k</th><th>rounds</th><th>tokens in / out</th><th>wall s</th><th>failures</th></tr>
{{range .R.Tasks}}<tr><td title="{{.Title}}">{{.ID}}</td><td>{{.Framework}}</td><td>{{.Samples}}</td>{{if .Scored}}<td>{{pct .ExecutionSuccess}}</td><td>{{pct .ResearchAccuracy}}</td><td>{{pctp .StyleConsistency}}</td><td>{{passk .PassAtK}}</td><td>{{printf "%.1f" .Rounds}}</td><td>{{printf "%.0f" .TokensIn}} / {{printf "%.0f" .TokensOut}}</td><td>{{printf "%.1f" .WallSeconds}}</td><td>{{fails .Failures}}</td>{{else}}<td colspan="8" class="no">not scored: {{.Error}}</td>{{end}}</tr>
{{end}}</table>
{{if .Notes}}<h2>Failures explained</h2><ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`))

func passKText(m map[string]float64) string {
	var parts []string
	for _, k := range sortedK(m) {
		parts = append(parts, fmt.Sprintf("@%s %s", k, pct(m[k])))
	}
	return strings.Join(parts, ", ")
}

// HTML renders the report as one self-contained page: inline CSS and SVG,
// no script, nothing fetched.
func HTML(r *Results) ([]byte, error) {
	type targetRow struct {
		Target
		CI string
	}
	var rows []targetRow
	var targets []bar
	for _, tg := range r.Summary.Targets {
		row := targetRow{Target: tg, CI: "–"}
		if st, ok := r.Summary.Metrics[targetMetric[tg.Name]]; ok && tg.Value != nil {
			row.CI = fmt.Sprintf("%s – %s (n=%d)", pct(st.Low), pct(st.High), st.N)
		}
		rows = append(rows, row)
		br := bar{Label: tg.Name, Goal: tg.Goal, Text: "not measured"}
		if tg.Value != nil {
			br.Value, br.Text = *tg.Value, pct(*tg.Value)
			if tg.Met != nil && !*tg.Met {
				br.Color = "#e45756"
			} else {
				br.Color = "#54a24b"
			}
		}
		targets = append(targets, br)
	}
	var acc, exe, rounds, tokens []bar
	maxRounds, maxTokens := 1.0, 1.0
	for _, t := range r.Tasks {
		maxRounds = math.Max(maxRounds, t.Rounds)
		maxTokens = math.Max(maxTokens, t.TokensIn+t.TokensOut)
	}
	var notes []string
	for _, t := range r.Tasks {
		if !t.Scored {
			acc = append(acc, bar{Label: t.ID, Text: "not scored"})
			exe = append(exe, bar{Label: t.ID, Text: "not scored"})
			continue
		}
		acc = append(acc, bar{Label: t.ID, Value: t.ResearchAccuracy, Text: pct(t.ResearchAccuracy), Goal: GoalAccuracy})
		exe = append(exe, bar{Label: t.ID, Value: t.ExecutionSuccess, Text: pct(t.ExecutionSuccess), Goal: GoalExecution})
		rounds = append(rounds, bar{Label: t.ID, Value: t.Rounds / maxRounds, Text: fmt.Sprintf("%.1f", t.Rounds), Color: "#72b7b2"})
		tokens = append(tokens, bar{Label: t.ID, Value: (t.TokensIn + t.TokensOut) / maxTokens, Text: fmt.Sprintf("%.0f", t.TokensIn+t.TokensOut), Color: "#b279a2"})
		for _, sm := range t.SampleResults {
			if sm.Explanation != "" {
				notes = append(notes, fmt.Sprintf("%s#%d (%s): %s", t.ID, sm.Index, sm.Failure, firstLine(sm.Explanation)))
			}
		}
	}
	var b bytes.Buffer
	err := htmlTmpl.Execute(&b, map[string]any{
		"R": r, "TargetRows": rows, "Created": r.Created.Format("2006-01-02 15:04"), "Notes": notes,
		"Targets":   svgBars("The four targets against their goals", targets),
		"Accuracy":  svgBars("Research accuracy per task", acc),
		"Execution": svgBars("Execution success per task", exe),
		"Rounds":    svgBars("Rounds per task (mean)", rounds),
		"Tokens":    svgBars("Tokens per task (in + out, mean)", tokens),
	})
	if err != nil {
		return nil, fmt.Errorf("eval: report.html: %w", err)
	}
	return b.Bytes(), nil
}
