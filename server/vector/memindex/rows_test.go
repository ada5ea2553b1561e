package memindex

import "testing"

// TestRowsGrow: rows keep their contents across growth, within the first
// chunk (copied) and past it (chunks added); a small array stays small;
// rows of later chunks never move.
func TestRowsGrow(t *testing.T) {
	r := rows[int32]{width: 3}
	r.grow(10)
	if got := len(r.chunks[0]); got != 30 {
		t.Fatalf("10 rows take %d values", got)
	}
	fill := func(from, to int32) {
		for i := from; i < to; i++ {
			copy(r.row(i), []int32{i, -i, 7})
		}
	}
	check := func(to int32) {
		t.Helper()
		for i := range to {
			if row := r.row(i); row[0] != i || row[1] != -i || row[2] != 7 || len(row) != 3 || cap(row) != 3 {
				t.Fatalf("row %d = %v (cap %d)", i, row, cap(row))
			}
		}
	}
	fill(0, 10)
	r.grow(700)
	fill(10, 700)
	check(700)
	r.grow(chunkRows*2 + 5)
	fill(700, chunkRows*2+5)
	check(chunkRows*2 + 5)
	last := &r.row(chunkRows + 1)[0]
	r.grow(chunkRows * 5)
	if len(r.chunks) != 5 || &r.row(chunkRows + 1)[0] != last {
		t.Fatalf("%d chunks; a row past the first chunk moved", len(r.chunks))
	}
	check(chunkRows*2 + 5)
}
