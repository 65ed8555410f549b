# MLEx worker image: a Celery worker that runs algorithm jobs as child processes.
#   docker build -f deploy/docker/worker.Dockerfile -t mlex-worker .
#   docker build -f deploy/docker/worker.Dockerfile --build-arg EXTRAS=worker,classifiers \
#       --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu -t mlex-worker-cpu .
# EXTRAS: `worker` (PyTorch, scikit-learn, UMAP, ...), plus `classifiers` (TensorFlow) where
# MLCoach's Keras classifier runs. TORCH_INDEX_URL: empty for the CUDA wheels from PyPI (GPU
# workers, run with the NVIDIA runtime), the CPU index for a smaller CPU-only image.
FROM python:3.11-slim

ARG EXTRAS=worker
ARG TORCH_INDEX_URL=
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
RUN if [ -n "${TORCH_INDEX_URL}" ]; then export PIP_EXTRA_INDEX_URL="${TORCH_INDEX_URL}"; fi \
    && pip install ".[${EXTRAS}]" \
    && useradd --system --uid 10001 --home-dir /var/lib/mlex mlex \
    && mkdir -p /var/lib/mlex/models /var/lib/mlex/work \
    && chown -R mlex /var/lib/mlex

USER mlex
CMD ["mlex", "worker", "--queues", "cpu"]
