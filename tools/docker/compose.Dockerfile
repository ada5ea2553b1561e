# memoryd's image built from source, for compose.yaml on machines that reach
# public registries. The final stage is tools/docker/Dockerfile's (the image
# the tested stack runs); tools/conformance/stack checks they stay equal.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/memoryd ./server/cmd/memoryd && mkdir -p /out/tmp /out/data

FROM scratch
COPY --from=build /out/memoryd /memoryd
COPY --from=build /out/tmp /tmp
ENV MEMORYD_ADDR=0.0.0.0:8080 MEMORYD_DB=sqlite:///data/memoryd.db
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/memoryd"]
CMD ["serve"]
