package llmtest

import (
	"net/http"
	"strings"
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, `{"error":"not implemented","error_type":"validation"}`, http.StatusNotImplemented)
}

func containsFold(s, sub string) bool { return strings.Contains(s, sub) }
