# streamproc: one image for every service (`streamproc worker`, `connect`, `sink`, ...).
#
#   buildah bud -t streamproc .          (or: docker build -t streamproc .)
#   podman run --rm streamproc --version
#
# Two stages: `build` compiles the policy core with mypyc into a wheel (`pip wheel .`, see
# build_backend/streamproc_build.py) and installs it with its dependencies into a virtualenv;
# `runtime` is the same base with Python only (no compiler, no pip cache, no sources), the
# virtualenv copied in, a non-root user, and nothing written outside /tmp and
# /var/lib/streamproc, so it runs with a read-only root filesystem (mount both as emptyDir).
#
# BASE_IMAGE must be Debian bookworm or a derivative of it (its python3 is 3.11, and the
# virtualenv built in one stage points at /usr/bin/python3 of the other).
#
# Behind a TLS-inspecting proxy, give pip the proxy's CA bundle for the build:
#   buildah bud -v /etc/ssl/certs/ca-certificates.crt:/run/ca.crt:ro \
#     --build-arg PIP_CERT=/run/ca.crt -t streamproc .
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
ARG PIP_CERT
ARG PIP_INDEX_URL
ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 python3-venv python3-dev gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The wheels of streamproc (core compiled) and of every dependency at the versions tested
# together (constraints.txt), then a virtualenv of them.
# The build fails when the core did not compile: an image must not be silently slower (-P:
# the installed package, not the sources in the working directory).
RUN python3 -m venv /opt/streamproc \
 && /opt/streamproc/bin/pip wheel --quiet --constraint constraints.txt --wheel-dir /wheels . \
 && /opt/streamproc/bin/pip install --quiet --no-index --find-links /wheels streamproc \
 && /opt/streamproc/bin/python -P -c "import streamproc.core as c, sys; print(c.CORE_BUILD); sys.exit(not c.COMPILED)" \
 && /opt/streamproc/bin/python -P -c "import streamproc.core as c; assert (c.DEFAULT_PACK_PATH / 'policy.yaml').is_file()"

FROM ${BASE_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --system --gid 10001 streamproc \
 && useradd --system --uid 10001 --gid streamproc --no-create-home \
      --home-dir /var/lib/streamproc --shell /usr/sbin/nologin streamproc \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/streamproc
COPY --from=build /opt/streamproc /opt/streamproc
# Bytecode was compiled at install; never write it at run time (read-only root). Local state
# (the worker's table store) lives under STREAMPROC_CACHE, a volume in a cluster.
ENV PATH=/opt/streamproc/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/var/lib/streamproc \
    STREAMPROC_CACHE=/var/lib/streamproc
WORKDIR /var/lib/streamproc
USER 10001:10001
# connect's webhooks and metrics, the review console, the worker's, sink's and review's metrics.
EXPOSE 8080 8470 9464 9466 9467
# Declared here, not above: a new revision must not invalidate the cached layers before it.
ARG BASE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="streamproc" \
      org.opencontainers.image.description="Real-time moderation of an institution's social media comments (policy core, Kafka worker, connect and sink services)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}" \
      org.opencontainers.image.documentation="deploy/README.md"
ENTRYPOINT ["streamproc"]
CMD ["--help"]
