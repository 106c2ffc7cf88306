# The monolith deployable: the shared Python image with its default command. Build from the
# repository root: docker build -f deploy/docker/monolith.Dockerfile -t strangler-monolith .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 STRANGLER_VAR_DIR=/var/lib/strangler
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monolith ./monolith
COPY extracted ./extracted
COPY strangler ./strangler
RUN pip install --no-cache-dir ".[demo]" && useradd --system --uid 10001 app \
    && mkdir -p /var/lib/strangler && chown app /var/lib/strangler
COPY routes.yaml ./
USER app
EXPOSE 8100
CMD ["gunicorn", "monolith.wsgi", "-c", "python:strangler.servicekit.gunicorn_conf", "--bind", "0.0.0.0:8100", "--workers", "2"]
