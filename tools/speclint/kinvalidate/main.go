// Command kinvalidate loads OpenAPI 3 documents with kin-openapi, the
// library the server's request validation uses, resolves their $refs
// (relative files such as schemas/*.yaml included) and validates them with
// every strict option on. It exits 1 listing every problem when a document
// is invalid, so spec errors surface here rather than at server start.
//
// Usage: go run ./tools/speclint/kinvalidate spec/openapi.yaml [more.yaml...]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run validates each file and returns the exit code: 0 all valid, 1 any
// invalid, 2 usage.
func run(ctx context.Context, files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprintln(stderr, "usage: kinvalidate FILE.yaml...")
		return 2
	}
	code := 0
	for _, f := range files {
		if err := validateFile(ctx, f); err != nil {
			fmt.Fprintf(stderr, "%s: invalid:\n", f)
			for _, line := range problems(err) {
				// kin-openapi appends the schema and value on later
				// lines: indent them under their problem.
				fmt.Fprintf(stderr, "  - %s\n", strings.ReplaceAll(strings.TrimSpace(line), "\n", "\n    "))
			}
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: valid (kin-openapi, strict)\n", f)
	}
	return code
}

// strict turns on every check kin-openapi has that is off by default, and
// keeps on the ones that are on by default in case those defaults change.
var strict = []openapi3.ValidationOption{
	openapi3.EnableSchemaFormatValidation(), // unknown formats are errors
	openapi3.EnableSchemaPatternValidation(),
	openapi3.EnableSchemaDefaultsValidation(),
	openapi3.EnableExamplesValidation(),
	openapi3.ProhibitExtensionsWithRef(),
	openapi3.EnableMultiError(), // report every problem, not the first
}

func validateFile(ctx context.Context, path string) error {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true // spec/schemas/*.yaml, relative only
	loader.Context = ctx
	loader.ReadFromURIFunc = localOnly
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if doc.OpenAPI == "" {
		return errors.New(`not an OpenAPI document: no "openapi" field`)
	}
	return doc.Validate(ctx, strict...)
}

// localOnly reads referenced files from disk and refuses remote refs: the
// spec must be self-contained, and CI has no network.
func localOnly(loader *openapi3.Loader, location *url.URL) ([]byte, error) {
	if location.Scheme != "" && location.Scheme != "file" {
		return nil, fmt.Errorf("remote $ref %s: the spec must reference local files only", location)
	}
	return openapi3.ReadFromFile(loader, location)
}

// problems flattens kin-openapi's MultiError (possibly nested) into one
// line per problem.
func problems(err error) []string {
	var me openapi3.MultiError
	if !errors.As(err, &me) {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range me {
		out = append(out, problems(e)...)
	}
	return out
}
