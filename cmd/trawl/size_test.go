package main

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    Size
		wantErr string
	}{
		{"0", 0, ""},
		{"4096", 4096, ""},
		{"512KiB", 512 << 10, ""},
		{"10MiB", 10 << 20, ""},
		{"10mib", 10 << 20, ""},
		{"1GB", 1_000_000_000, ""},
		{"1gb", 1_000_000_000, ""},
		{"1kB", 1000, ""},
		{"1.5MiB", 3 << 19, ""},
		{"2 MiB", 2 << 20, ""},
		{" 7B ", 7, ""},
		{"1K", 1024, ""},
		{"3G", 3 << 30, ""},
		{"1TiB", 1 << 40, ""},
		{"0.5", 0, ""},
		{"", 0, "empty"},
		{"MiB", 0, "want a number"},
		{"-1MiB", 0, "want a number"},
		{"10XB", 0, "unknown unit"},
		{"1.2.3MB", 0, "bad number"},
		{"9223372036854775807", 9223372036854775807, ""},
		{"9223372036854775808", 0, "too large"},
		{"8388608TiB", 0, "too large"},
		{"99999999999999999999999GiB", 0, "too large"},
		{"1e3", 0, "unknown unit"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSize(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestSizeString(t *testing.T) {
	for _, tt := range []struct {
		in   Size
		want string
	}{{0, "0"}, {10 << 20, "10MiB"}, {512 << 10, "512KiB"}, {1000, "1000B"}, {3 << 30, "3GiB"}, {1 << 40, "1TiB"}} {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		back, err := ParseSize(tt.in.String())
		if err != nil || back != tt.in {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in.String(), back, err, tt.in)
		}
	}
}

// FuzzParseSize checks that ParseSize never panics, never returns a negative
// size, and that what it accepts survives a String round trip.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "10MiB", "1GB", "1.5KiB", " 2 mb ", "-1", "", "1e9", "9223372036854775807", "18446744073709551616B", "0.0000001TiB", ".5K", "1.", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q: %v", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d < 0", s, n)
		}
		back, err := ParseSize(n.String())
		if err != nil || back != n {
			t.Fatalf("round trip of %q: %d -> %q -> %d, %v", s, n, n.String(), back, err)
		}
	})
}
