# syntax=docker/dockerfile:1
# Task2Box Atlas: the web app, its jobs and the CLI in one image.
#   docker build -t task2box-atlas .                                  # CPU torch (default)
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t task2box-atlas:cuda .
# docker-compose.yml builds both (the CUDA one under the `gpu` profile).

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtualenv with torch from TORCH_INDEX, then the app itself -----------------
FROM ${PYTHON_IMAGE} AS build
# The README's install, step for step (tests/deploy/test_docker.py compares them):
# torch first, from the index that decides its build; then the project (the rest from PyPI).
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# A layer of its own: torch is most of the image and changes least often.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY backend ./backend
COPY models ./models
COPY benchmarks ./benchmarks
COPY frontend ./frontend
COPY docs/transfer.md docs/transfer-sample.csv ./docs/
RUN /opt/venv/bin/pip install .

# --- runtime: the virtualenv, a non-root user, /data -----------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="Task2Box Atlas" \
      org.opencontainers.image.description="Hugging Face image-classification datasets as Task2Box boxes" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 atlas \
    && useradd --system --uid 10001 --gid atlas --home-dir /home/atlas --create-home atlas \
    && mkdir /data \
    && chown atlas:atlas /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HOME=/data/huggingface \
    T2B_DATA_DIR=/data \
    T2B_DATABASE_URL=sqlite:////data/atlas.db
USER 10001:10001
WORKDIR /home/atlas
VOLUME ["/data"]
EXPOSE 8000
# 200 from /healthz means the database answers (a 503 or no answer fails the check). The first
# start migrates and seeds before it listens, hence the start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["task2box", "up", "--host", "0.0.0.0", "--port", "8000"]
