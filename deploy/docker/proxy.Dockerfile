# The proxy deployable: the shared Python image with its default command. Build from the
# repository root: docker build -f deploy/docker/proxy.Dockerfile -t strangler-proxy .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 STRANGLER_VAR_DIR=/var/lib/strangler
WORKDIR /app
COPY pyproject.toml README.md ./
COPY strangler ./strangler
# postgres: psycopg, for the control store every replica shares (STRANGLER_STORE_URL).
RUN pip install --no-cache-dir ".[proxy,postgres]" && useradd --system --uid 10001 app \
    && mkdir -p /var/lib/strangler && chown app /var/lib/strangler
COPY routes.yaml ./
USER app
EXPOSE 8000 8001
CMD ["python", "-m", "strangler.proxy", "--config", "/app/routes.yaml", "--host", "0.0.0.0"]
