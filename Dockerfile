ARG PYTHON_IMAGE=python:3.12-slim
FROM ${PYTHON_IMAGE}
# newswatch as a container: `newswatch run` with every setting from NEWSWATCH_* variables.
#   docker build -t newswatch .
#   docker run -p 8000:8000 -v newswatch-data:/data newswatch
# Stage 0 builds a virtualenv; the final stage copies it, without pip caches or sources.

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python3 -m venv /opt/venv
# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
# Then the code, as a wheel without dependencies.
COPY README.md ./
COPY newswatch ./newswatch
COPY monitor ./monitor
COPY net ./net
COPY rules ./rules
COPY stories ./stories
COPY notifiers ./notifiers
COPY api ./api
COPY store ./store
COPY web ./web
COPY bench ./bench
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps .

FROM ${PYTHON_IMAGE}

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NEWSWATCH_HOST=0.0.0.0 \
    NEWSWATCH_PORT=8000 \
    NEWSWATCH_DATABASE_URL=sqlite:////data/newswatch.db \
    NEWSWATCH_LOG_FORMAT=json
RUN groupadd --system --gid 10001 newswatch \
    && useradd --system --uid 10001 --gid newswatch --home-dir /data --no-create-home newswatch \
    && mkdir -p /data \
    && chown newswatch:newswatch /data
COPY --from=0 /opt/venv /opt/venv
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# Liveness only: /readyz (database reachable, schema current) is for load balancers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('NEWSWATCH_PORT', '8000'), timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["newswatch", "run"]
