# Engram server image. Build:  docker build -t engram .
# Run:    docker run -p 9000:9000 -v /path/to/models:/models engram
# The image carries no weights: mount a directory holding stories260K/ (or set ENGRAM_* paths).
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
COPY proto proto
COPY src src
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /src/target/quarkus-app /app
# Listening beyond loopback needs access tokens: pass ENGRAM_AUTH_TOKENS or ENGRAM_AUTH_TOKENS_FILE (see README).
# MALLOC_ARENA_MAX=2: 20% lower peak resident memory under 32 clients (BENCHMARKS.md, "Load").
ENV ENGRAM_HOST=0.0.0.0 \
    MALLOC_ARENA_MAX=2 \
    ENGRAM_STORIES260K_PATH=/models/stories260K \
    DJL_CACHE_DIR=/app/djl-cache \
    JAVA_OPTS="-Dai.djl.offline=true"
EXPOSE 9000
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/quarkus-run.jar"]
