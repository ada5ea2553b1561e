package weaviate

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"time"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	memoryd "github.com/memoryd/memoryd/server"
)

// Unfiltered searches go over gRPC when Config.GRPCHost is set: Weaviate
// answers its Search call without parsing a GraphQL query or writing JSON,
// and the client reads a protobuf instead of decoding JSON twice (the
// client's GraphQL answer, then our rows). The client library only sends
// batches over gRPC, so searches use a connection of their own.
// Filtered searches stay on GraphQL, where filterWhere builds their
// conditions.

// reconnectMax bounds the wait between two attempts to reconnect.
const reconnectMax = time.Second

// grpcSearcher runs nearVector searches over a gRPC connection.
type grpcSearcher struct {
	client pb.WeaviateClient
	md     metadata.MD // the API key, when set
}

func newGRPCSearcher(cfg Config) (*grpcSearcher, error) {
	creds := insecure.NewCredentials()
	if cfg.Scheme == "https" {
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	// NewClient does not connect: Open must not need Weaviate up. The
	// dialer notices a dead peer as the REST client's does (conn.go).
	d := &net.Dialer{Timeout: 10 * time.Second, Control: setUserTimeout}
	// Reconnects back off to at most reconnectMax: gRPC's default (2 min)
	// would keep searches failing long after a restarted Weaviate is back.
	conn, err := grpc.NewClient(cfg.GRPCHost, grpc.WithTransportCredentials(creds),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		}),
		grpc.WithConnectParams(grpc.ConnectParams{MinConnectTimeout: 5 * time.Second,
			Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: reconnectMax}}))
	if err != nil {
		return nil, fmt.Errorf("weaviate: gRPC client for %s: %w", cfg.GRPCHost, err)
	}
	s := &grpcSearcher{client: pb.NewWeaviateClient(conn)}
	if cfg.APIKey != "" {
		s.md = metadata.Pairs("authorization", "Bearer "+cfg.APIKey)
	}
	return s, nil
}

// search returns the k nearest of tenant's vectors to query, with scores
// as cosine similarity (1 - the distance Weaviate reports).
func (s *grpcSearcher) search(ctx context.Context, class, tenant string, query []float32, k int) ([]memoryd.Scored, error) {
	if s.md != nil {
		ctx = metadata.NewOutgoingContext(ctx, s.md)
	}
	reply, err := s.client.Search(ctx, &pb.SearchRequest{
		Collection:  class,
		Tenant:      tenant,
		Limit:       uint32(k),
		NearVector:  &pb.NearVector{VectorBytes: vectorBytes(query)},
		Properties:  &pb.PropertiesRequest{NonRefProperties: []string{propID}},
		Metadata:    &pb.MetadataRequest{Distance: true},
		Uses_127Api: true, // properties as NonRefProps, vectors as bytes
	})
	if err != nil {
		return nil, err
	}
	out := make([]memoryd.Scored, 0, len(reply.Results))
	for _, r := range reply.Results {
		id := r.GetProperties().GetNonRefProps().GetFields()[propID].GetTextValue()
		if id == "" || !r.GetMetadata().GetDistancePresent() {
			return nil, fmt.Errorf("weaviate search: a result without %s or distance", propID)
		}
		out = append(out, memoryd.Scored{ID: id, Score: 1 - r.GetMetadata().GetDistance()})
	}
	return out, nil
}

// vectorBytes is v as gRPC's vector_bytes: float32s, little-endian.
func vectorBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
