package memindex

// Per-slot arrays (vectors, link rows, states, ids) are stored in chunks
// of chunkRows rows, so that growing a large workspace appends chunks
// instead of copying everything into bigger arrays. The copy was done
// under the space's exclusive lock, stalling every search and write for
// its duration, and first touches of fresh memory are slow (page faults,
// ~15 us per 4 KiB page on the 2-core VM this was measured on): growing
// 100k 512-d vectors took most of a second. Only a space's first chunk
// grows by copying, up to chunkRows rows, so small workspaces stay small.
const (
	chunkShift = 10
	chunkRows  = 1 << chunkShift
)

// rows is a growable array of fixed-width rows (a vector, a link row);
// width 0 means 1, for arrays of single values, read with at.
type rows[T any] struct {
	width  int
	chunks [][]T
}

// at returns the address of value i of a width-1 array.
func (r *rows[T]) at(i int32) *T {
	return &r.chunks[i>>chunkShift][i&(chunkRows-1)]
}

// len is the number of rows there is room for.
func (r *rows[T]) len() int {
	switch len(r.chunks) {
	case 0:
		return 0
	case 1:
		return len(r.chunks[0]) / max(r.width, 1)
	}
	return len(r.chunks) * chunkRows
}

// row returns row i; the slice is capped to the row.
func (r *rows[T]) row(i int32) []T {
	c := r.chunks[i>>chunkShift]
	off := int(i&(chunkRows-1)) * r.width
	return c[off : off+r.width : off+r.width]
}

// grow makes room for n rows, keeping the contents; the caller holds the
// owner's exclusive lock (the chunk list may be replaced).
func (r *rows[T]) grow(n int) {
	if n <= r.len() {
		return
	}
	if n <= chunkRows {
		r.setFirst(n)
		return
	}
	if r.len() < chunkRows {
		r.setFirst(chunkRows)
	}
	chunks := r.chunks
	for len(chunks)*chunkRows < n {
		chunks = append(chunks, make([]T, chunkRows*max(r.width, 1)))
	}
	// A fresh chunk list, not an append in place: readers holding the
	// old one (a private copy's, say) never see it change.
	r.chunks = append([][]T(nil), chunks...)
}

// setFirst replaces the first (only) chunk by one of n rows.
func (r *rows[T]) setFirst(n int) {
	c := make([]T, n*max(r.width, 1))
	if len(r.chunks) > 0 {
		copy(c, r.chunks[0])
	}
	r.chunks = [][]T{c}
}
