package sandbox

import (
	"context"
	"testing"
)

var benchSink *Result

// BenchmarkRunTrue measures the fixed cost of one run per isolation level:
// directory, uid, prlimit, namespaces, reaping.
func BenchmarkRunTrue(b *testing.B) {
	for _, st := range Detect().Levels {
		b.Run(st.Level.String(), func(b *testing.B) {
			if !st.Available {
				b.Skipf("%s not available: %s", st.Level, st.Reason)
			}
			spec := Spec{Level: st.Level, Argv: []string{"/bin/true"}, Files: map[string][]byte{"a.py": []byte("x = 1\n")}}
			b.ResetTimer()
			for range b.N {
				res, err := Run(context.Background(), spec)
				if err != nil || res.ExitCode != 0 {
					b.Fatalf("%v %+v", err, res)
				}
				benchSink = res
			}
		})
	}
}
