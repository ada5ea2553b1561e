// Package python holds the Python client's models generated from the spec
// (models.py); sdk/python copies them into its package when it builds.
package python

//go:generate go run ../../tools/pygen -o models.py ../../spec/openapi.yaml ../../spec/schemas/events.yaml
