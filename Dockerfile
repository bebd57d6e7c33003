# The Delphi panel app: gunicorn on port 8000, PostgreSQL given by DATABASE_URL.
# Build: docker build -t delphi .   Run: see docs/deploy.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    APP_ENV=production \
    FLASK_APP=wsgi.py \
    WORKERS=4

# pg_dump/pg_restore for `flask backup` and `flask restore`.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/delphi
COPY pyproject.toml README.md wsgi.py gunicorn.conf.py ./
COPY app app
COPY delphi delphi
COPY scoring scoring
COPY scale_bands scale_bands
COPY migrations migrations
COPY templates templates
COPY static static
COPY docs docs
# Editable, so the app finds templates/, static/ and migrations/ beside its package.
RUN pip install -e .

RUN useradd --system --home /srv/delphi delphi && mkdir -p instance && chown delphi instance
USER delphi

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"

# Migrate, then serve. SECRET_KEY and DATABASE_URL must come from the environment.
# Workers, threads and keep-alive come from gunicorn.conf.py (WORKERS, THREADS, KEEPALIVE).
CMD ["sh", "-c", "flask db upgrade && exec gunicorn --bind 0.0.0.0:8000 --forwarded-allow-ips='*' wsgi:app"]
