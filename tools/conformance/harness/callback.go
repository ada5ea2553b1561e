package main

import (
	"context"
	"fmt"
	"net"
	"slices"

	"github.com/testcontainers/testcontainers-go"

	"github.com/memoryd/memoryd/conformance"
)

// webhookReceiver points the webhooks profile's receiver at an address the
// container can reach: the gateway of its Docker network, which is this
// machine's own address on that network (port 0: a free one). The
// container runs with private webhook addresses allowed, since the
// receiver is plain http on a private address.
func webhookReceiver(ctx context.Context, c *testcontainers.DockerContainer, cfg *conformance.Config) error {
	if !slices.Contains(cfg.Profiles, conformance.Webhooks) || cfg.CallbackListen != "" {
		return nil
	}
	info, err := c.Inspect(ctx)
	if err != nil {
		return fmt.Errorf("inspecting the container for its network gateway: %w", err)
	}
	if info.NetworkSettings != nil {
		for _, n := range info.NetworkSettings.Networks {
			if n != nil && n.Gateway.IsValid() {
				cfg.CallbackListen = net.JoinHostPort(n.Gateway.String(), "0")
				return nil
			}
		}
	}
	return fmt.Errorf("the container has no network gateway for the webhook receiver to listen on")
}
