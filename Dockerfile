# The production image, in three stages that install exactly the package lists of
# scripts/lib.sh (tests/ops/test_container keeps them equal):
#   build    debian:12 with the -dev packages (BUILD_PACKAGES): compiles todo-gateway, and npm
#            fetches swagger-ui-dist for GET /docs (DOCS_ASSETS=local)
#   migrate  debian:12-slim with psql (MIGRATE_PACKAGES) and db/: docker-compose's one-shot
#            `migrate` service (`docker build --target migrate`)
#   runtime  (the last stage, the default) debian:12-slim with the runtime libraries only
#            (RUNTIME_PACKAGES), as the unprivileged user todo-gateway, the binary as entry point
# Files in the runtime image: /usr/bin/todo-gateway, and Swagger UI's files (with their
# LICENSE and NOTICE) in /usr/share/todo-gateway/docs, the binary's default DOCS_ASSETS_DIR.

FROM debian:12 AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config ca-certificates npm \
        libh2o-evloop-dev libjwt-dev libjansson-dev libssl-dev libpq-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY gateway gateway
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DGW_TESTS=OFF -DGW_DOCS_DIR=/usr/share/todo-gateway/docs \
    && cmake --build /build -j "$(nproc)" \
    && test -s /build/docs-assets/swagger-ui-bundle.js

FROM debian:12-slim AS migrate
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
COPY db /usr/share/todo-gateway/db
USER nobody
ENTRYPOINT ["/usr/share/todo-gateway/db/migrate"]

FROM debian:12-slim AS runtime
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates curl libh2o-evloop0.13 libjwt0 libjansson4 libssl3 libpq5 libcurl4 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin todo-gateway
COPY --from=build /build/gateway/todo-gateway /usr/bin/todo-gateway
COPY --from=build /build/docs-assets /usr/share/todo-gateway/docs
ENV HOST=0.0.0.0 PORT=8080
EXPOSE 8080
USER todo-gateway
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT:-8080}/healthz" || exit 1
ENTRYPOINT ["/usr/bin/todo-gateway"]
