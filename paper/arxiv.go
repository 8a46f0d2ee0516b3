package paper

import (
	"context"
	"fmt"
)

// ParseArxivID recognises arXiv ids and URLs.
func ParseArxivID(s string) (string, bool) { return "", false }

func loadArxiv(ctx context.Context, id string, opts Options) (*Paper, error) {
	return nil, fmt.Errorf("paper: arXiv not built yet")
}
