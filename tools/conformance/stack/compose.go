package stack

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of compose.yaml the stack definition fixes.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
}

// interpolation is compose's ${NAME:-default}: an operator's value, else
// the default, which is what the tested stack runs.
var interpolation = regexp.MustCompile(`\$\{[A-Z_][A-Z0-9_]*:-([^}]*)\}`)

// resolve replaces each ${NAME:-default} by its default.
func resolve(v string) (string, error) {
	out := interpolation.ReplaceAllString(v, "$1")
	if strings.Contains(out, "$") {
		return "", fmt.Errorf("%q: only ${NAME:-default} is understood", v)
	}
	return out, nil
}

// ParseCompose reads a compose file's services.
func ParseCompose(data []byte) (map[string]composeService, error) {
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	return f.Services, nil
}

// Diff lists how a compose file's services differ from the stack: a
// missing or extra service, another environment (defaults resolved) or
// another command. It is empty when they are equal.
func Diff(services map[string]composeService) []string {
	var diffs []string
	want := Services()
	names := map[string]bool{}
	for _, svc := range want {
		names[svc.Name] = true
		c, ok := services[svc.Name]
		if !ok {
			diffs = append(diffs, "service "+svc.Name+" is missing")
			continue
		}
		diffs = append(diffs, diffEnv(svc.Name, svc.Env, c.Environment)...)
		if !slices.Equal(svc.Cmd, c.Command) {
			diffs = append(diffs, fmt.Sprintf("%s: command %q, the stack runs %q", svc.Name, c.Command, svc.Cmd))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(services)) {
		if !names[name] {
			diffs = append(diffs, "service "+name+" is not in the stack")
		}
	}
	return diffs
}

func diffEnv(name string, want, got map[string]string) []string {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		v, ok := got[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: %s is missing (the stack sets %q)", name, k, want[k]))
			continue
		}
		r, err := resolve(v)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s: %s: %v", name, k, err))
		} else if r != want[k] {
			diffs = append(diffs, fmt.Sprintf("%s: %s=%q, the stack sets %q", name, k, r, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: %s is not set by the stack", name, k))
		}
	}
	return diffs
}
