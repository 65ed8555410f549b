# MLEx Tiled image: the real Tiled server over a writable catalog (demo/, results/, data/).
#   docker build -f deploy/docker/tiled.Dockerfile -t mlex-tiled .
#   docker run -v /beamline/data:/data:ro -e MLEX_DATA_ROOTS=/data mlex-tiled
FROM python:3.11-slim

ARG EXTRAS=tiled
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLEX_HOME=/var/lib/mlex \
    MLEX_BIND=0.0.0.0

WORKDIR /opt/mlex
COPY pyproject.toml README.md ./
COPY algorithms ./algorithms
COPY services ./services
COPY workers ./workers
COPY frontends ./frontends
COPY deploy ./deploy
COPY mlex_cli ./mlex_cli
RUN pip install ".[${EXTRAS}]" \
    && useradd --system --uid 10001 --home-dir /var/lib/mlex mlex \
    && mkdir -p /var/lib/mlex/tiled \
    && chown -R mlex /var/lib/mlex

USER mlex
EXPOSE 8000
CMD ["mlex", "tiled", "--port", "8000"]
