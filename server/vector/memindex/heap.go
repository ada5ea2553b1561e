package memindex

// item is a node (slot) and its similarity to the query.
type item struct {
	sim  float32
	slot int32
}

// minHeap keeps the worst item on top: it holds the current best results
// so the one to evict is found in O(1). maxHeap keeps the best on top: the
// frontier of candidates to expand next. Hand-written rather than
// container/heap to avoid interface calls in the search loop.
type minHeap []item

func (h minHeap) top() item { return h[0] }

func (h *minHeap) push(it item) {
	*h = append(*h, it)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].sim <= it.sim {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = it
}

func (h *minHeap) pop() item {
	s := *h
	top := s[0]
	last := s[len(s)-1]
	s = s[:len(s)-1]
	*h = s
	if len(s) == 0 {
		return top
	}
	i, n := 0, len(s)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].sim < s[c].sim {
			c++
		}
		if last.sim <= s[c].sim {
			break
		}
		s[i] = s[c]
		i = c
	}
	s[i] = last
	return top
}

type maxHeap []item

func (h *maxHeap) push(it item) {
	*h = append(*h, it)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].sim >= it.sim {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = it
}

func (h *maxHeap) pop() item {
	s := *h
	top := s[0]
	last := s[len(s)-1]
	s = s[:len(s)-1]
	*h = s
	if len(s) == 0 {
		return top
	}
	i, n := 0, len(s)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].sim > s[c].sim {
			c++
		}
		if last.sim >= s[c].sim {
			break
		}
		s[i] = s[c]
		i = c
	}
	s[i] = last
	return top
}

// topK collects the k best items of a stream.
type topK struct {
	k int
	h minHeap
}

func (t *topK) offer(sim float32, slot int32) {
	if len(t.h) < t.k {
		t.h.push(item{sim, slot})
		return
	}
	if sim > t.h[0].sim {
		t.h[0] = item{sim, slot}
		t.h.fix0()
	}
}

// fix0 restores the heap after its top was replaced.
func (h minHeap) fix0() {
	i, n := 0, len(h)
	it := h[0]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].sim < h[c].sim {
			c++
		}
		if it.sim <= h[c].sim {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = it
}

// offer keeps it if h holds fewer than keep items or it beats the worst,
// which it then replaces; it reports whether h changed.
func (h *minHeap) offer(it item, keep int) bool {
	if len(*h) < keep {
		h.push(it)
		return true
	}
	if it.sim <= (*h)[0].sim {
		return false
	}
	(*h)[0] = it
	h.fix0()
	return true
}
