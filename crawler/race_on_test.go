//go:build race

package crawler

// raceEnabled is true when the tests run with the race detector.
const raceEnabled = true
