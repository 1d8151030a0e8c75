# Switchboard's one image: the web processes (gunicorn), the workers and the scheduler all run it, with
# different commands (compose.yaml). nginx, PostgreSQL and Redis are the stock images.

# The console's Socket.IO client comes from npm (package-lock.json pins it), as bin/setup installs it.
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --silent

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
COPY --from=assets /build/node_modules/socket.io-client/dist/socket.io.min.js static/vendor/
RUN useradd --create-home --uid 10001 switchboard \
    && mkdir -p instance /tmp/metrics /srv/models \
    && chown switchboard instance /tmp/metrics /srv/models
USER switchboard
EXPOSE 8000
# The Procfile's web line, on all interfaces of the container (nginx reaches it over the compose network).
ENV WEB_HOST=0.0.0.0 PORT=8000
CMD ["sh", "-c", "exec gunicorn --worker-class geventwebsocket.gunicorn.workers.GeventWebSocketWorker --workers 1 --graceful-timeout 3 --no-control-socket --config deploy/gunicorn.conf.py --bind ${WEB_HOST}:${PORT} wsgi:app"]
