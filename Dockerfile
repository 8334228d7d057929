# syntax=docker/dockerfile:1
#
# The callstream image: one static binary on distroless, running as nonroot.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg COMMIT=$(git rev-parse HEAD) -t callstream .
#
# The entrypoint is the binary; the command is the subcommand and its flags
# (`run`, `simulate`, `tail`, `healthcheck`, …). There is no shell in the image.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=none
WORKDIR /src
COPY . .
# The module and build caches survive between builds; only the modules that
# the binary imports are downloaded.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/callstream ./cmd/callstream

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/callstream /callstream
# nonroot is uid and gid 65532; the Kubernetes manifests run as the same.
USER 65532:65532
# /metrics, /healthz and /readyz of `callstream run`.
EXPOSE 9090
ENTRYPOINT ["/callstream"]
CMD ["run"]
