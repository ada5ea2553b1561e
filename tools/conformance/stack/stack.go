// Package stack defines the production stack once: PostgreSQL, Weaviate
// and two memoryd nodes, their environment and commands. The conformance
// harness starts exactly these containers (tools/conformance/harness), and
// compose.yaml at the repository root must say the same (compose_test.go
// checks it), so what the tests run is what users deploy.
package stack

import "maps"

// Service names. Each is also the container's host name on the stack's
// network, and the service's name in compose.yaml.
const (
	Postgres = "postgres"
	Weaviate = "weaviate"
	NodeA    = "memoryd-a"
	NodeB    = "memoryd-b"
)

// The database's role, password and name. compose.yaml lets an operator
// replace the password (${POSTGRES_PASSWORD:-memoryd}); this is its default.
const (
	DBUser     = "memoryd"
	DBPassword = "memoryd"
	DBName     = "memoryd"
)

// TicketSecret signs browser stream tickets. Every node must share it, so
// a ticket issued by one node is redeemed by any; compose.yaml lets an
// operator replace it and should (${MEMORYD_STREAM_TICKET_SECRET:-...}).
const TicketSecret = "change-me-in-production"

// UseWeaviate switches the nodes' vectors from the in-process index (one
// per node, following the shared log) to the stack's Weaviate. Switching
// it changes Node's environment, and compose.yaml must follow (its test
// says so).
const UseWeaviate = true

// VectorsURL is MEMORYD_VECTORS when UseWeaviate is on.
const VectorsURL = "weaviate://" + Weaviate + ":8080?grpc=" + Weaviate + ":50051"

// Service is one container of the stack.
type Service struct {
	Name string
	Env  map[string]string
	// Cmd is the arguments after the image's entrypoint; nil keeps the
	// image's own.
	Cmd []string
	// Port is the port clients use, as "8080/tcp".
	Port string
}

// DBURL is the nodes' MEMORYD_DB.
func DBURL() string {
	return "postgres://" + DBUser + ":" + DBPassword + "@" + Postgres + ":5432/" + DBName + "?sslmode=disable"
}

// PostgresService is PostgreSQL 15; the variables are the official
// image's, which tools/docker/postgres's entrypoint honours too.
func PostgresService() Service {
	return Service{Name: Postgres, Port: "5432/tcp", Env: map[string]string{
		"POSTGRES_USER":     DBUser,
		"POSTGRES_PASSWORD": DBPassword,
		"POSTGRES_DB":       DBName,
	}}
}

// WeaviateService is a one-node Weaviate: no modules (memoryd supplies the
// vectors), anonymous access (it is reachable only on the stack's network),
// no telemetry. Cluster traffic binds every address of the container and
// advertises the container's own address, which memberlist picks.
func WeaviateService() Service {
	return Service{Name: Weaviate, Port: "8080/tcp",
		Cmd: []string{"--host", "0.0.0.0", "--port", "8080", "--scheme", "http"},
		Env: map[string]string{
			"PERSISTENCE_DATA_PATH":                   "/var/lib/weaviate",
			"CLUSTER_HOSTNAME":                        "node1",
			"RAFT_BOOTSTRAP_EXPECT":                   "1",
			"DEFAULT_VECTORIZER_MODULE":               "none",
			"ENABLE_MODULES":                          "",
			"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "true",
			"DISABLE_TELEMETRY":                       "true",
			"PROMETHEUS_MONITORING_ENABLED":           "false",
			"GRPC_PORT":                               "50051",
			"LOG_LEVEL":                               "info",
		}}
}

// NodeService is a memoryd node named name (NodeA or NodeB). Both nodes
// are the same but for the name: one database, one ticket secret. The 1 s
// minimum heartbeat lets a client ask for heartbeats every second (the
// conformance suite's heartbeat check does).
func NodeService(name string) Service {
	env := map[string]string{
		"MEMORYD_ADDR":                 "0.0.0.0:8080",
		"MEMORYD_DB":                   DBURL(),
		"MEMORYD_STREAM_TICKET_SECRET": TicketSecret,
		"MEMORYD_STREAM_MIN_HEARTBEAT": "1s",
		"MEMORYD_LOG_LEVEL":            "info",
	}
	if UseWeaviate {
		env["MEMORYD_VECTORS"] = VectorsURL
	}
	return Service{Name: name, Port: "8080/tcp", Env: env}
}

// Services returns the stack in start order.
func Services() []Service {
	return []Service{PostgresService(), WeaviateService(), NodeService(NodeA), NodeService(NodeB)}
}

// EnvOf returns a copy of the named service's environment.
func EnvOf(name string) map[string]string {
	for _, s := range Services() {
		if s.Name == name {
			return maps.Clone(s.Env)
		}
	}
	return nil
}
