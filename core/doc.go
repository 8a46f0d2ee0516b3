// Package core is the one place for what every front door of r2c shares:
// the CLI (cmd/r2c), the language server (lsp) and the HTTP API turn their
// protocol into a call of this package and its results and events back
// into their protocol, and hold no rules of their own. A rule two front
// doors need lives here once, with its test, so the same input gives the
// same answer through each of them.
//
// The rules it owns:
//
//   - The workspace and its effective configuration (FindRoot,
//     LoadConfig, LoadProfile): the nearest folder with r2c.toml or .git
//     is the root; defaults, the user file, r2c.toml, R2C_* variables, then
//     the front door's overrides (flags, initializationOptions, request
//     fields), every relative path resolved against the root;
//     style.min_evidence applied to the style profile wherever it is used.
//   - Safe paths: internal/safepath, the one check for names that come
//     from a model, a sandbox or an editor and must stay inside a folder.
//   - Exclusive, all-or-nothing writing of generated files (WriteFiles).
//   - Test discovery (DiscoverTests): a test_*.py module is its own test;
//     else test_<module>.py beside it, tests/test_<module>.py, or tests/.
//   - Validation (Validate) and its verdict for a front door (Summarize).
//   - Implementation (Implement): preflight before any model call (the
//     output folder must be new or empty), the paper indexed when no index
//     holds it, the run, the files written, and a run record whose status
//     says what was written (RecordWritten).
package core
