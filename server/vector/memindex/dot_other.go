//go:build !amd64

package memindex

func dot(a, b []float32) float32 { return dotGeneric(a, b) }

func prefetch(*float32) {}
