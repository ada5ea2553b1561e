//go:build !amd64

package memindex

func dot(a, b []float32) float32 { return dotGeneric(a, b) }

func dot8(a, b []int8) int32 { return dot8Generic(a, b) }

func prefetch8(*int8) {}
