//go:build !amd64 || purego

package warc

const hasSHA2way = false

func block2(ha, hb *[5]uint32, pa, pb *byte, n int) { panic("warc: block2 without the SHA extensions") }
