//go:build race

package paper

// raceEnabled: the race detector multiplies memory use, so tests skip
// their memory bounds under it.
const raceEnabled = true
