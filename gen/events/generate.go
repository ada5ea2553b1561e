package events

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../spec/schemas/events.yaml
