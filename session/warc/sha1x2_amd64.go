//go:build amd64 && !purego

package warc

import "golang.org/x/sys/cpu"

// hasSHA2way reports whether block2 can run here.
var hasSHA2way = cpuSHA() && cpu.X86.HasSSE41 && cpu.X86.HasSSSE3

// cpuSHA reports whether the processor has the SHA extensions.
func cpuSHA() bool

// block2 runs n 64-byte blocks of pa through the SHA-1 state ha and n
// blocks of pb through hb, interleaved.
//
//go:noescape
func block2(ha, hb *[5]uint32, pa, pb *byte, n int)
