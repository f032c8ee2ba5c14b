# syntax=docker/dockerfile:1
#
# Baton images. One build, three outputs (docs/deploy.md):
#
#   docker build -t baton .                          # default: `baton serve`, any function via BATON_FUNCTION
#   docker build --target lambda -t baton-lambda .   # Lambda container image: `baton lambda`
#   docker build --target lambda-bootstrap --output type=local,dest=deploy/lambda/dist .
#                                                    # just the `bootstrap` file, for the SAM zip package
#
# The binary links the Swift standard library, Foundation and the C++ runtime statically, so the
# run-time image needs nothing but glibc and libgcc_s: no Swift runtime, no shell, no package manager.
# It is built on Amazon Linux 2023 (glibc 2.34), so the same file runs on Lambda's provided.al2023 and
# on any newer glibc (distroless Debian 12 has 2.36).

ARG SWIFT_IMAGE=swift:6.3.1-amazonlinux2023
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${SWIFT_IMAGE} AS build
# The C++ runtime is linked into `baton` (Linker/libstdc++.so) from libstdc++.a, which the Swift image
# normally has already.
RUN dnf install -y -q libstdc++-static; dnf clean all
WORKDIR /src
# Dependencies first, so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Linker ./Linker
COPY Sources ./Sources
COPY Tests ./Tests
# Should this image's libstdc++.a not link into a position-independent program, build against the
# shared libstdc++.so.6 instead (BATON_STATIC_CXX=0; 0.4 ms slower to start) and say so.
RUN (swift build -c release --static-swift-stdlib --product baton \
     || { echo "Dockerfile: linking libstdc++ statically failed; building with the shared one (BATON_STATIC_CXX=0)" >&2; \
          BATON_STATIC_CXX=0 swift build -c release --static-swift-stdlib --product baton; }) \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/baton" /out/baton \
    && strip /out/baton

# `docker build --target lambda-bootstrap --output ...`: the Lambda custom runtime file, nothing else.
FROM scratch AS lambda-bootstrap
COPY --from=build /out/baton /bootstrap

# Lambda container image (package type Image). The Runtime API client is built in; no base image
# from AWS is needed. Config: BATON_CONFIG, keys: BATON_SIGNING_KEYS (see template.yaml).
FROM ${RUNTIME_IMAGE} AS lambda
COPY --from=build /out/baton /usr/local/bin/baton
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/baton", "lambda"]

# Default: the HTTP server for containers (Kubernetes, Knative, Cloud Run, ECS...). One image for the
# three functions: BATON_FUNCTION=token|jwks|discovery picks one (unset serves all). Listens on $PORT
# (default 8080) as the non-root user 65532; /health answers readiness and liveness probes.
FROM ${RUNTIME_IMAGE} AS serve
COPY --from=build /out/baton /usr/local/bin/baton
USER 65532:65532
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/baton", "serve"]
