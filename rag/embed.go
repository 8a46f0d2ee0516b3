package rag

import (
	"context"
	"math"
)

// Embedder turns texts into vectors. Implementations must be safe for
// concurrent use; the index calls Embed from several goroutines at once.
type Embedder interface {
	// Name identifies the embedding model; it is stored with the index and
	// must change whenever vectors of the same text would change.
	Name() string
	// Dim is the vector length, or 0 while it is not known yet (an HTTP
	// model reveals it with its first answer).
	Dim() int
	// Embed returns one L2-normalised vector per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// normalize scales v to unit length in place (a zero vector stays zero).
func normalize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
}
