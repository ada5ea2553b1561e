package conformance

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// refIndex is what the checks' refs name: "op code", "* code", message
// names, and seed sections ("seed:...").
type refIndex struct {
	opCodes  map[string]bool // "createMemory 201"
	wildcard map[int]bool    // "* 429"
	messages map[string]bool
}

func indexRefs(t *testing.T, checks []Check, spec *Spec, messages []string) refIndex {
	t.Helper()
	ops := map[string]Operation{}
	for _, o := range spec.Operations() {
		ops[o.ID] = o
	}
	idx := refIndex{opCodes: map[string]bool{}, wildcard: map[int]bool{}, messages: map[string]bool{}}
	for _, c := range checks {
		if len(c.Refs()) == 0 {
			t.Errorf("%s has no Ref", c.ID)
		}
		for _, r := range c.Refs() {
			if err := idx.add(r, ops, messages); err != nil {
				t.Errorf("%s: %v", c.ID, err)
			}
		}
	}
	return idx
}

func (idx refIndex) add(ref string, ops map[string]Operation, messages []string) error {
	if strings.HasPrefix(ref, "seed:") {
		return nil
	}
	if f := strings.Fields(ref); len(f) == 2 {
		code, err := strconv.Atoi(f[1])
		if err != nil {
			return fmt.Errorf("ref %q: bad status", ref)
		}
		if f[0] == "*" {
			idx.wildcard[code] = true
			return nil
		}
		o, ok := ops[f[0]]
		if !ok {
			return fmt.Errorf("ref %q: no operation %s in openapi.yaml", ref, f[0])
		}
		if !slices.Contains(o.Codes, code) {
			return fmt.Errorf("ref %q: %s does not document %d", ref, f[0], code)
		}
		idx.opCodes[ref] = true
		return nil
	}
	if !slices.Contains(messages, ref) {
		return fmt.Errorf("ref %q is neither \"operationId status\" nor an AsyncAPI message", ref)
	}
	idx.messages[ref] = true
	return nil
}

// TestCoverage fails when a documented operation+status or an AsyncAPI
// message has no check naming it, or a check names something that does
// not exist.
func TestCoverage(t *testing.T) {
	spec, err := LoadSpec("http://example.test")
	if err != nil {
		t.Fatal(err)
	}
	messages, err := AsyncMessages()
	if err != nil {
		t.Fatal(err)
	}
	idx := indexRefs(t, Checks(), spec, messages)
	for _, o := range spec.Operations() {
		for _, code := range o.Codes {
			ref := fmt.Sprintf("%s %d", o.ID, code)
			if !idx.opCodes[ref] && !idx.wildcard[code] {
				t.Errorf("no check covers %s (%s %s)", ref, o.Method, o.Path)
			}
		}
	}
	for _, m := range messages {
		if !idx.messages[m] {
			t.Errorf("no check covers AsyncAPI message %s", m)
		}
	}
}

var idPattern = regexp.MustCompile(`^[A-Z0-9]+(-[A-Z0-9]+)*-[0-9A-Z]+$`)

func TestChecksWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks() {
		if !idPattern.MatchString(c.ID) {
			t.Errorf("id %q is not like MEM-CREATE-003", c.ID)
		}
		if seen[c.ID] {
			t.Errorf("duplicate id %s", c.ID)
		}
		seen[c.ID] = true
		if c.Level != Must && c.Level != Should {
			t.Errorf("%s: level %q", c.ID, c.Level)
		}
		if !slices.Contains(Profiles, c.Profile) {
			t.Errorf("%s: profile %q", c.ID, c.Profile)
		}
		if c.Run == nil || c.Title == "" {
			t.Errorf("%s: no Run or Title", c.ID)
		}
	}
	if len(seen) < 50 {
		t.Errorf("only %d checks registered", len(seen))
	}
}

// The coverage test must be able to fail: dropping the checks of one
// status leaves it uncovered.
func TestCoverageDetectsGaps(t *testing.T) {
	spec, err := LoadSpec("http://example.test")
	if err != nil {
		t.Fatal(err)
	}
	var some []Check
	for _, c := range Checks() {
		if !strings.Contains(c.Ref, "deleteMemory 404") {
			some = append(some, c)
		}
	}
	messages, err := AsyncMessages()
	if err != nil {
		t.Fatal(err)
	}
	idx := indexRefs(t, some, spec, messages)
	if idx.opCodes["deleteMemory 404"] {
		t.Fatal("deleteMemory 404 still indexed")
	}
	if err := idx.add("noSuchOp 200", map[string]Operation{}, nil); err == nil {
		t.Error("an unknown operation was accepted")
	}
	if err := idx.add("memory.exploded", nil, []string{"memory.created"}); err == nil {
		t.Error("an unknown message was accepted")
	}
}
