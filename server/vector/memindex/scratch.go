package memindex

import "sync"

// visited marks nodes seen by one search. Bumping gen forgets every mark
// at once, so a search costs nothing proportional to the graph size.
type visited struct {
	marks []uint16
	gen   uint16
}

func (v *visited) reset() {
	v.gen++
	if v.gen == 0 {
		clear(v.marks)
		v.gen = 1
	}
}

// mark reports whether n was already seen, marking it.
func (v *visited) mark(n int32) bool {
	if v.marks[n] == v.gen {
		return true
	}
	v.marks[n] = v.gen
	return false
}

// scratch is the reusable working memory of one search or insert.
type scratch struct {
	visit visited
	cand  maxHeap
	res   minHeap
	best  minHeap // searchLayer's early stop
	out   []item
	nb    []int32
	live  []item
	sel   []item
	kept  []item
	merge []item
	prune []item
	sets  [2][]int32 // setRow0's slot sets
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// getScratch returns a scratch able to mark capacity nodes.
func getScratch(capacity int) *scratch {
	sc := scratchPool.Get().(*scratch)
	if len(sc.visit.marks) < capacity {
		sc.visit.marks = make([]uint16, capacity)
		sc.visit.gen = 0
	}
	return sc
}

func putScratch(sc *scratch) { scratchPool.Put(sc) }
