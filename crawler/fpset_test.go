package crawler

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFPSet: has agrees with a map for sets of every size up to a few
// thousand, with duplicates and the extreme values, for members, near
// misses and random values.
func TestFPSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 100, 1000, 4097} {
		want := make(map[uint64]bool)
		var fps []uint64
		for range n {
			v := r.Uint64()
			switch r.IntN(10) {
			case 0:
				v = 0
			case 1:
				v = math.MaxUint64
			case 2:
				if len(fps) > 0 {
					v = fps[r.IntN(len(fps))] // a duplicate
				}
			case 3:
				v &= 0xffff // many with the same top bits
			}
			fps = append(fps, v)
			want[v] = true
		}
		s := newFPSet(fps)
		if s.len() != len(want) {
			t.Errorf("n=%d: len %d, want %d", n, s.len(), len(want))
		}
		probe := func(v uint64) {
			if got := s.has(v); got != want[v] {
				t.Fatalf("n=%d: has(%#x) = %v, want %v", n, v, got, want[v])
			}
		}
		for v := range want {
			probe(v)
			probe(v + 1)
			probe(v - 1)
		}
		for range 10000 {
			probe(r.Uint64())
			probe(r.Uint64() & 0xffff)
		}
		probe(0)
		probe(math.MaxUint64)
	}
}

func BenchmarkFPSet(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	fps := make([]uint64, 20000)
	for i := range fps {
		fps[i] = r.Uint64()
	}
	probes := append([]uint64(nil), fps...)
	s := newFPSet(fps)
	b.ResetTimer()
	for i := range b.N {
		if !s.has(probes[i%len(probes)]) {
			b.Fatal("member not found")
		}
	}
}
