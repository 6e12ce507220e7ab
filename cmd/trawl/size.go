package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Size is a byte count written with an optional unit: "512KiB", "10MiB",
// "1GB", "1.5MiB", "4096". Decimal units (kB, MB, GB, TB) are powers of 1000,
// binary units (KiB, MiB, GiB, TiB, and the shorthands K, M, G, T) powers of
// 1024. Units are case-insensitive. Size is a pflag.Value and decodes from
// YAML strings and integers.
type Size int64

var sizeUnits = map[string]float64{
	"":    1,
	"b":   1,
	"k":   1 << 10,
	"kb":  1e3,
	"kib": 1 << 10,
	"m":   1 << 20,
	"mb":  1e6,
	"mib": 1 << 20,
	"g":   1 << 30,
	"gb":  1e9,
	"gib": 1 << 30,
	"t":   1 << 40,
	"tb":  1e12,
	"tib": 1 << 40,
}

// ParseSize parses a size such as "10MiB". It accepts a non-negative decimal
// number, optional spaces, and an optional unit; the result is rounded down
// to whole bytes and must fit in an int64.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty size")
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("size %q: want a number with an optional unit such as 512KiB, 10MiB or 1GB", s)
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, t[i:])
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err == nil {
			m := int64(mult)
			if n > math.MaxInt64/m {
				return 0, fmt.Errorf("size %q: too large", s)
			}
			return Size(n * m), nil
		}
		// Fall through for numbers too long for int64: the float path
		// reports them as too large.
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: bad number %q", s, num)
	}
	v := math.Floor(f * mult)
	// float64(MaxInt64) rounds up to 2^63, so >= rejects exactly what overflows.
	if math.IsInf(v, 0) || math.IsNaN(v) || v >= float64(math.MaxInt64) {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return Size(v), nil
}

// String formats the size with the largest binary unit that divides it
// exactly ("10MiB", "1536B" becomes "1536B", 0 is "0").
func (s Size) String() string {
	if s == 0 {
		return "0"
	}
	for _, u := range []struct {
		name string
		n    Size
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s%u.n == 0 {
			return strconv.FormatInt(int64(s/u.n), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// Set implements pflag.Value.
func (s *Size) Set(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s = n
	return nil
}

// Type implements pflag.Value.
func (s *Size) Type() string { return "size" }

// UnmarshalYAML accepts a size string ("10MiB") or a plain integer of bytes.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a size such as 10MiB")
	}
	return s.Set(n.Value)
}

// MarshalYAML writes the size in its String form.
func (s Size) MarshalYAML() (any, error) { return s.String(), nil }
