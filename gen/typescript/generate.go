// Package typescript holds the TypeScript types generated from the spec for
// the npm package in sdk/typescript (which copies them in when it builds).
package typescript

//go:generate bash ../../sdk/typescript/scripts/generate.sh
