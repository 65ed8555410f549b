# MLEx front-ends image: every Dash app in one server (Label Maker, Data Clinic, MLCoach, ...).
#   docker build -f deploy/docker/frontends.Dockerfile -t mlex-frontends .
FROM python:3.11-slim

ARG EXTRAS=frontends
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
EXPOSE 8050
CMD ["mlex", "frontends", "--port", "8050"]
