# Laurel's production image: web (gunicorn), RQ worker and scheduler all run from it
# (docker-compose.yml picks the command). Two stages: the first builds a virtualenv, the second
# copies only that and the entry files, so no compiler or pip cache ships.

FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/laurel
COPY pyproject.toml setup.cfg README.md ./
COPY core ./core
COPY rules ./rules
COPY reports ./reports
COPY jobs ./jobs
COPY web ./web
RUN /opt/laurel/bin/pip install --no-cache-dir .


FROM python:3.11-slim-bookworm

ENV PATH=/opt/laurel/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000 \
    LOG_FORMAT=json \
    EXPORT_DIR=/data/exports

RUN groupadd --system --gid 10001 laurel \
    && useradd --system --uid 10001 --gid laurel --home-dir /app --shell /usr/sbin/nologin laurel \
    && mkdir -p /data/exports \
    && chown laurel:laurel /data/exports
COPY --from=build /opt/laurel /opt/laurel
WORKDIR /app
COPY wsgi.py gunicorn.conf.py ./

USER 10001:10001
EXPOSE 8000
VOLUME ["/data/exports"]

# Liveness only: readiness (MongoDB and Redis) is /health/ready, for the load balancer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'), timeout=4)"]

# gunicorn stops gracefully on SIGTERM (graceful_timeout in gunicorn.conf.py).
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
