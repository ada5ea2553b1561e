package memindex

// useAVX2 is set when the CPU and OS support AVX2 and FMA: dotAVX2 then
// does the similarity loop 8 lanes at a time, about 5x the scalar loop at
// 512 dimensions, and that loop is most of both build and search time.
var useAVX2 = hasAVX2FMA()

func dot(a, b []float32) float32 {
	if useAVX2 && len(a) >= 8 {
		b = b[:len(a)]
		return dotAVX2(&a[0], &b[0], len(a))
	}
	return dotGeneric(a, b)
}

//go:noescape
func dotAVX2(a, b *float32, n int) float32

// dot8 is the dot product of two int8 codes (quantize.go).
func dot8(a, b []int8) int32 {
	n := len(a) &^ 15
	if !useAVX2 || n == 0 {
		return dot8Generic(a, b)
	}
	b = b[:len(a)]
	s := dot8AVX2(&a[0], &b[0], n)
	return s + dot8Generic(a[n:], b[n:])
}

//go:noescape
func dot8AVX2(a, b *int8, n int) int32

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

func hasAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if c1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // OS saves XMM and YMM state
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0 // AVX2
}

//go:noescape
func prefetch8(p *int8)
