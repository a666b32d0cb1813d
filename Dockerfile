# syntax=docker/dockerfile:1
# The kizashi image: `kizashi watch` by default, `kizashi train` / torchrun on request.
#
#   docker build -t kizashi .                                   # CPU PyTorch (default)
#   docker build --build-arg TORCH_VARIANT=cu128 -t kizashi:cuda .   # CUDA 12.8 PyTorch
#
#   docker run -d --name kizashi -p 9464:9464 -e KIZASHI_WATCH_TOKEN=$(openssl rand -hex 16) \
#       -v kizashi-state:/var/lib/kizashi -v $PWD/watch.yaml:/etc/kizashi/watch.yaml:ro kizashi
#
# The dashboard and /metrics listen on 0.0.0.0:9464 inside the container (127.0.0.1
# there is unreachable from outside); kizashi refuses a non-loopback address without
# a token, so pass KIZASHI_WATCH_TOKEN (Prometheus then scrapes with that bearer token).
# Full guide: docs/deploy.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtual environment with kizashi, PyTorch and the web extras ----
FROM ${PYTHON_IMAGE} AS build
# PyTorch is installed first and pinned, from its own index: an unpinned `torch` from
# PyPI pulls a multi-GB CUDA build. TORCH_VARIANT is a wheel index of download.pytorch.org:
# cpu (default), or a CUDA build such as cu126 / cu128 (the CUDA runtime comes in the
# wheels' nvidia-* dependencies; the host needs only the NVIDIA driver and container toolkit).
ARG TORCH_VERSION=2.13.0
ARG TORCH_VARIANT=cpu
ARG TORCH_INDEX=https://download.pytorch.org/whl/${TORCH_VARIANT}
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/kizashi
ENV PATH=/opt/kizashi/bin:$PATH
RUN pip install --index-url "${TORCH_INDEX}" "torch==${TORCH_VERSION}"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[dl,web]" && kizashi --help >/dev/null

# ---- runtime: the environment only, run as an unprivileged user ----
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="kizashi" \
      org.opencontainers.image.description="Find and predict anomalies in computing-centre telemetry" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /opt/kizashi /opt/kizashi
COPY examples/watch-node-exporter.yaml /etc/kizashi/watch.yaml
RUN groupadd --system --gid 10001 kizashi \
    && useradd --system --uid 10001 --gid kizashi --home-dir /var/lib/kizashi \
               --shell /usr/sbin/nologin kizashi \
    && mkdir -p /var/lib/kizashi \
    && chown kizashi:kizashi /var/lib/kizashi
ENV PATH=/opt/kizashi/bin:$PATH \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/kizashi
# The state (one SQLite file in WAL mode) lives here: keep it on a volume.
VOLUME ["/var/lib/kizashi"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
ENTRYPOINT ["kizashi", "watch"]
# Arguments after the image name replace all of these: give the config path first, e.g.
#   docker run ... kizashi /etc/kizashi/watch.yaml --listen 0.0.0.0:9464 --prometheus URL
# (relative state paths land in the volume: it is the working directory).
CMD ["/etc/kizashi/watch.yaml", "--state", "/var/lib/kizashi/watch.sqlite", "--listen", "0.0.0.0:9464"]
