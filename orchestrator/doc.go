// Package orchestrator runs r2c's agents as a small typed state graph:
// Analyzer → Planner → Implementer → Validator, with a correction cycle
// back to the Implementer (evidence of failing tests attached) and, after
// Config.Rounds rounds, plan revisions by the Planner (Config.PlanRevisions,
// default one).
//
// The pieces, each usable on its own:
//
//   - Graph: nodes, plain and conditional edges, cycles bounded by a
//     recursion limit, one shared state; in the spirit of LangGraph.
//   - Schedule: a task DAG fanned out with sourcegraph/conc, each task
//     started as soon as its dependencies finish, at most Config.MaxInFlight
//     at once, highest level first; the first error cancels the rest.
//   - Run: the whole pipeline for one paper section. It emits Events to an
//     Observer (the CLI prints them, the language server turns them into
//     $/progress) and records everything under Config.RunsDir/<id>/: the
//     section, spec, plan, every prompt and answer, the code and test report
//     of every round, timings and token counts (ListRuns, LoadRun).
//   - Result.Files: the best round's files; the core package writes them
//     (core.WriteFiles), all-or-nothing and never over a file.
//
// Run writes no output files itself, and a cancelled run returns none: the
// caller decides where the code goes. Nothing here imports the language
// server.
package orchestrator
