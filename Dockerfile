# Exchange hub image: one image runs every role (`exchange serve`, `exchange worker`, `exchange db upgrade`);
# docker-compose.yml picks the role per service with `command:`.

# --- build: install the wheel and its dependencies into a virtualenv that is copied as a whole ---
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Exactly what the hatchling wheel needs: the readme, the package and the migrations it ships as
# exchange/_migrations. A non-editable install, so the runtime stage needs no source tree.
COPY pyproject.toml README.md ./
COPY exchange ./exchange
COPY connectors ./connectors
COPY migrations ./migrations
RUN pip install ".[postgres,warninglists]"

# --- runtime: same base, the virtualenv, no compilers, no source, no root ---
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 exchange \
    && useradd --system --uid 10001 --gid exchange --home-dir /var/lib/exchange --create-home \
       --shell /usr/sbin/nologin exchange
COPY --from=build /opt/venv /opt/venv
# The working directory is the user's home, so the SQLite default (./exchange.db) is writable when no
# EXCHANGE_DATABASE_URL is given: `docker run -p 8000:8000 IMAGE` with `exchange serve --host 0.0.0.0 --demo`.
WORKDIR /var/lib/exchange
USER 10001:10001
EXPOSE 8000
# No HEALTHCHECK here: the same image also runs the worker and the one-shot migration, which serve no
# HTTP, so a baked-in probe would mark them unhealthy. Each deployment probes the hub role itself
# (docker-compose.yml: /readyz; Kubernetes: /healthz for liveness, /readyz for readiness).
CMD ["exchange", "serve", "--host", "0.0.0.0", "--port", "8000"]
