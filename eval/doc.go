// Package eval measures r2c against the four targets of its design —
// execution success, research accuracy, style consistency and productivity
// gain — on a suite of paper sections whose hidden tests never reach a
// prompt.
//
// A suite is a folder with one folder per task (see LoadSuite): task.toml,
// the section as Markdown, hidden/ tests and reference/ code. The shipped
// suite is embedded (Shipped). Before a task scores anything its hidden
// tests must pass on its reference code (CheckReference), and that run also
// sets the hidden tests' time limit, as EvalPlus does: max(4 s, 4× the
// reference's time).
//
// Run drives the whole pipeline (core.Implement, as every front door) once per task and
// sample, runs the hidden tests on the generated modules in the sandbox,
// and writes one JSON file per sample, so a killed run resumes where it
// stopped. Summarise turns those samples into Results (per task means,
// pass@k with the unbiased estimator, confidence intervals over tasks), and
// WriteReport writes results.json, report.md and a self-contained
// report.html with inline SVG charts. Compare sets two results side by side
// with exact permutation tests.
package eval
