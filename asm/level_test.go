package asm

import (
	"os"
	"slices"
	"testing"
)

func TestParseLevel(t *testing.T) {
	for _, l := range []Level{Generic, AVX2, AVX512} {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseLevel("sse"); err == nil {
		t.Error("ParseLevel(\"sse\") gave no error")
	}
}

func TestCapLevel(t *testing.T) {
	cases := []struct {
		hw    Level
		limit string
		want  Level
	}{
		{AVX512, "", AVX512},
		{AVX512, "avx2", AVX2},
		{AVX512, "generic", Generic},
		{AVX2, "avx512", AVX2},
		{AVX512, "AVX2", Generic},
		{AVX512, "fast", Generic},
	}
	for _, c := range cases {
		if got := capLevel(c.hw, c.limit); got != c.want {
			t.Errorf("capLevel(%v, %q) = %v, want %v", c.hw, c.limit, got, c.want)
		}
	}
}

func TestSetLevel(t *testing.T) {
	t.Logf("best level %v (hardware %v, TRIPLET_ISA=%q)",
		Best(), hardwareLevel(), os.Getenv("TRIPLET_ISA"))
	if want := os.Getenv("TRIPLET_EXPECT_ISA"); want != "" && Best().String() != want {
		t.Errorf("TRIPLET_EXPECT_ISA=%s, but cpuid and TRIPLET_ISA chose %v", want, Best())
	}
	if Current() != Best() {
		t.Fatalf("Current() = %v before any SetLevel, want Best() = %v", Current(), Best())
	}
	if got := Levels(); len(got) != int(Best())+1 || !slices.IsSorted(got) {
		t.Errorf("Levels() = %v, want every level up to %v", got, Best())
	}
	for _, l := range Levels() {
		restore, err := SetLevel(l)
		if err != nil {
			t.Fatal(err)
		}
		if Current() != l {
			t.Errorf("after SetLevel(%v), Current() = %v", l, Current())
		}
		restore()
		if Current() != Best() {
			t.Errorf("restore left level %v, want %v", Current(), Best())
		}
	}
	if _, err := SetLevel(Best() + 1); err == nil {
		t.Errorf("SetLevel(%v) above the best level gave no error", Best()+1)
	}
	if _, err := SetLevel(-1); err == nil {
		t.Error("SetLevel(-1) gave no error")
	}
}
