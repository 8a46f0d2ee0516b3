package paper

import "fmt"

func parsePDF(name string, data []byte, opts Options) (*Paper, error) {
	return nil, fmt.Errorf("paper: %s: PDF support not built yet", name)
}
