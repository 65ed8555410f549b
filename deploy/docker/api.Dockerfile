# MLEx API image: MLExContent, MLExCompute and Splash ML (one image, the command picks the API).
#   docker build -f deploy/docker/api.Dockerfile -t mlex-api .
#   docker run mlex-api mlex api content --port 8001
# Installs only the `services` extra: no torch, TensorFlow or scikit-learn (the APIs never
# import them; jobs are sent to workers by name).
FROM python:3.11-slim

ARG EXTRAS=services
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
    && mkdir -p /var/lib/mlex \
    && chown mlex /var/lib/mlex

USER mlex
EXPOSE 8001 8002 8003
CMD ["mlex", "api", "content", "--port", "8001"]
