package warc

import (
	"crypto/sha1"
	"math/rand/v2"
	"testing"
)

// TestDigests: the two digests, computed together in pieces of every size
// (block2 where the processor has the SHA extensions), equal crypto/sha1's
// of the head and body and of the body, for heads and bodies of lengths
// around the block size and of random lengths.
func TestDigests(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 300<<10)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	lengths := []int{0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 16 << 10, 300 << 10}
	for range 200 {
		lengths = append(lengths, rng.IntN(40<<10))
	}
	for i, bodyLen := range lengths {
		headLen := []int{0, 1, 63, 64, 65, 200, 301}[i%7]
		head, body := data[len(data)-headLen:], data[:bodyLen]
		d := newDigests()
		d.writeHead(head)
		for p := body; len(p) > 0; {
			n := min(len(p), 1+rng.IntN([]int{7, 64, 200, 5000, 70000}[rng.IntN(5)]))
			d.write(p[:n])
			p = p[n:]
		}
		gotBlock, gotPayload := d.sums()
		wantBlock := sha1.Sum(append(append([]byte{}, head...), body...))
		if gotBlock != wantBlock || gotPayload != sha1.Sum(body) {
			t.Fatalf("head %d, body %d bytes (SHA extensions: %v): block %x payload %x, want %x %x",
				headLen, bodyLen, hasSHA2way, gotBlock, gotPayload, wantBlock, sha1.Sum(body))
		}
	}
}

func BenchmarkDigests(b *testing.B) {
	body := make([]byte, 16<<10)
	head := make([]byte, 150)
	b.SetBytes(int64(len(body)))
	b.Run("pair", func(b *testing.B) {
		for b.Loop() {
			d := newDigests()
			d.writeHead(head)
			d.write(body)
			d.sums()
		}
	})
	b.Run("crypto/sha1", func(b *testing.B) {
		for b.Loop() {
			x, y := sha1.New(), sha1.New()
			x.Write(head)
			x.Write(body)
			y.Write(body)
			x.Sum(nil)
			y.Sum(nil)
		}
	})
}

// FuzzDigests compares the paired digests with crypto/sha1 for any head,
// body and way of cutting the body into writes.
func FuzzDigests(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\n"), []byte("hello"), uint64(1))
	f.Add([]byte{}, make([]byte, 64), uint64(7))
	f.Add(make([]byte, 65), make([]byte, 1000), uint64(0xffff))
	f.Fuzz(func(t *testing.T, head, body []byte, cuts uint64) {
		d := newDigests()
		d.writeHead(head)
		rng := rand.New(rand.NewPCG(cuts, 1))
		for p := body; len(p) > 0; {
			n := min(len(p), 1+rng.IntN(130))
			d.write(p[:n])
			p = p[n:]
		}
		gotBlock, gotPayload := d.sums()
		if want := sha1.Sum(append(append([]byte{}, head...), body...)); gotBlock != want {
			t.Fatalf("block digest %x, want %x (head %d, body %d bytes)", gotBlock, want, len(head), len(body))
		}
		if want := sha1.Sum(body); gotPayload != want {
			t.Fatalf("payload digest %x, want %x (body %d bytes)", gotPayload, want, len(body))
		}
	})
}
