// Package api is r2c's HTTP front door: the same validate, implement and
// paper ingestion the CLI and the language server offer, as an
// authenticated JSON service for teams and CI runners that do not sit in an
// editor, with server-sent events for progress, Prometheus metrics and a
// dashboard over the run store.
//
// It holds no rules of its own: each handler decodes its request, calls the
// core (validation, implement, paper parsing) and encodes the result. What
// it adds is what HTTP needs: bearer-token authentication compared in
// constant time, one JSON error shape ({"error": {"code", "message"}}),
// body-size limits (413), a bounded admission queue (429 with Retry-After),
// per-request timeouts, uploads kept inside the run's folder, and graceful
// shutdown that records every run's final state.
//
// The routes and their JSON are described by openapi.json (OpenAPI 3.1),
// embedded and served at /openapi.json; the tests validate every request
// and response against it.
package api
