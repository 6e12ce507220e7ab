package main

import (
	"os"
	"runtime/pprof"
)

var profStop = func() {}

func init() {
	if p := os.Getenv("TRAWL_CPUPROFILE"); p != "" {
		f, _ := os.Create(p)
		pprof.StartCPUProfile(f)
		profStop = func() { pprof.StopCPUProfile(); f.Close() }
	}
}
