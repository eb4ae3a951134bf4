# aggregator in a container: config and data are volumes; `aggregator run` is the command.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AGGREGATOR_CONFIG=/config \
    AGGREGATOR_DATA_DIR=/data

RUN groupadd --system --gid 10001 aggregator \
    && useradd --system --uid 10001 --gid aggregator --home-dir /data aggregator

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY aggregator ./aggregator
RUN pip install --no-cache-dir . && rm -rf /root/.cache

COPY config /config
COPY seeds /seeds
COPY samples /samples
RUN sed -i 's|^seeds_dir = .*|seeds_dir = "/seeds"|' /config/aggregator.toml \
    && sed -i 's|"\.\./samples/|"/samples/|' /config/feeds.toml \
    && mkdir -p /data && chown -R 10001:10001 /config /data /seeds

USER 10001:10001
VOLUME ["/config", "/data"]
HEALTHCHECK --interval=5m --timeout=30s --start-period=2m CMD ["aggregator", "status", "--check"]
STOPSIGNAL SIGTERM
CMD ["aggregator", "run"]
