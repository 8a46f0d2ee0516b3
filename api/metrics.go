package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus series, all prefixed r2c_. Each
// Server has its own registry, so tests (and two servers in one process)
// never share counters.
type metrics struct {
	reg *prometheus.Registry

	runs         *prometheus.CounterVec // front_door, kind, outcome
	rounds       prometheus.Histogram
	tests        *prometheus.CounterVec // result
	styleScore   prometheus.Histogram
	agentSeconds *prometheus.HistogramVec // agent
	tokens       *prometheus.CounterVec   // direction
	sandboxTime  prometheus.Histogram
	sandboxKills prometheus.Counter
	httpRequests *prometheus.CounterVec   // route, code
	httpSeconds  *prometheus.HistogramVec // route
}

func newMetrics(queueDepth, inFlight func() float64) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r2c_runs_total",
		Help: "Finished runs by front door, kind (implement|validate) and outcome (passed|failed|cancelled|error)."},
		[]string{"front_door", "kind", "outcome"})
	m.rounds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "r2c_run_rounds",
		Help: "Implementation rounds per implement run.", Buckets: []float64{1, 2, 3, 4, 5, 6, 8, 10}})
	m.tests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r2c_tests_total",
		Help: "Tests run in the sandbox by the last validation of each run, by result (passed|failed)."}, []string{"result"})
	m.styleScore = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "r2c_style_score",
		Help: "Style consistency score (0-100) of each run's code.", Buckets: prometheus.LinearBuckets(10, 10, 10)})
	m.agentSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "r2c_model_latency_seconds",
		Help:    "Wall time of each agent step, from its started to its finished event (mostly the model server's answer).",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{"agent"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r2c_tokens_total",
		Help: "Tokens sent to (in) and received from (out) the model server."}, []string{"direction"})
	m.sandboxTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "r2c_sandbox_seconds",
		Help: "Wall time of sandboxed test runs.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)})
	m.sandboxKills = prometheus.NewCounter(prometheus.CounterOpts{Name: "r2c_sandbox_kills_total",
		Help: "Sandboxed test runs ended by a limit (wall time, memory, output)."})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r2c_http_requests_total",
		Help: "HTTP requests by route pattern and status code."}, []string{"route", "code"})
	m.httpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "r2c_http_request_seconds",
		Help: "HTTP request duration by route pattern (streams included).", Buckets: prometheus.DefBuckets}, []string{"route"})
	m.reg.MustRegister(m.runs, m.rounds, m.tests, m.styleScore, m.agentSeconds, m.tokens,
		m.sandboxTime, m.sandboxKills, m.httpRequests, m.httpSeconds,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "r2c_queue_depth",
			Help: "Admitted requests waiting for a free slot."}, queueDepth),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "r2c_in_flight",
			Help: "Requests and runs holding a slot now."}, inFlight),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// statusRecorder captures the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets server-sent events through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts a route's requests by status and times them. The route
// label is the mux pattern, never the raw path, so run ids and file names
// do not explode the series.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		m.httpRequests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		m.httpSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}
