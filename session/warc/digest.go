package warc

import (
	"crypto/sha1"
	"encoding/binary"
	"hash"
)

// digests computes the two SHA-1 digests of a response record as its body
// is read: the block digest (the HTTP head, then the body) and the payload
// digest (the body). Where the processor has the SHA extensions, both are
// computed in one pass over the body, the two streams interleaved (about
// the time of one digest); elsewhere with crypto/sha1, one after the other.
// A digests is not safe for concurrent use.
type digests struct {
	block, payload sha1State // with hasSHA2way
	b, p           hash.Hash // without
}

func newDigests() *digests {
	d := &digests{}
	if hasSHA2way {
		d.block.reset()
		d.payload.reset()
	} else {
		d.b, d.p = sha1.New(), sha1.New()
	}
	return d
}

// writeHead adds p to the block digest only.
func (d *digests) writeHead(p []byte) {
	if d.b != nil {
		d.b.Write(p)
		return
	}
	d.block.write(p)
}

// write adds p to both digests.
func (d *digests) write(p []byte) {
	if d.b != nil {
		d.b.Write(p)
		d.p.Write(p)
		return
	}
	pb := d.block.fill(p)
	pp := d.payload.fill(p)
	if d.block.nx == 0 && d.payload.nx == 0 {
		if n := min(len(pb), len(pp)) / 64; n > 0 {
			block2(&d.block.h, &d.payload.h, &pb[0], &pp[0], n)
			pb, pp = pb[n*64:], pp[n*64:]
		}
	}
	d.block.rest(pb)
	d.payload.rest(pp)
}

// sums returns the block and payload digests.
func (d *digests) sums() (block, payload [sha1.Size]byte) {
	if d.b != nil {
		d.b.Sum(block[:0])
		d.p.Sum(payload[:0])
		return block, payload
	}
	return d.block.sum(), d.payload.sum()
}

// sha1State is the state of one SHA-1 computed with block2.
type sha1State struct {
	h   [5]uint32
	x   [64]byte // a partial block
	nx  int      // bytes in x
	len uint64   // bytes written
}

func (s *sha1State) reset() {
	*s = sha1State{h: [5]uint32{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}}
}

// blocks runs whole blocks of p through s alone (block2 with a scratch
// second stream: about the time of one).
func (s *sha1State) blocks(p []byte) {
	var scratch [5]uint32
	block2(&s.h, &scratch, &p[0], &p[0], len(p)/64)
}

// fill counts p as written and tops up the partial block with its start,
// running the block once full; it returns the rest of p.
func (s *sha1State) fill(p []byte) []byte {
	s.len += uint64(len(p))
	if s.nx == 0 {
		return p
	}
	n := copy(s.x[s.nx:], p)
	s.nx += n
	if s.nx == 64 {
		s.blocks(s.x[:])
		s.nx = 0
	}
	return p[n:]
}

// rest runs the whole blocks of p (what fill returned, less what block2
// ran) and keeps the remainder as the partial block.
func (s *sha1State) rest(p []byte) {
	if n := len(p) / 64 * 64; n > 0 {
		s.blocks(p[:n])
		p = p[n:]
	}
	if len(p) > 0 {
		s.nx = copy(s.x[:], p)
	}
}

func (s *sha1State) write(p []byte) { s.rest(s.fill(p)) }

// sum returns the digest of what was written, leaving s as it is.
func (s *sha1State) sum() [sha1.Size]byte {
	t := *s
	var pad [72]byte
	pad[0] = 0x80
	n := 56 - t.nx
	if t.nx >= 56 {
		n += 64
	}
	binary.BigEndian.PutUint64(pad[n:], t.len*8)
	t.write(pad[:n+8])
	var out [sha1.Size]byte
	for i, v := range t.h {
		binary.BigEndian.PutUint32(out[4*i:], v)
	}
	return out
}
