# Production image: the app under gunicorn (tracker/gunicorn.conf.py), configured by environment
# variables (README, "Running it like production"). Only requirements.lock is installed: no test,
# lint or embedded-database tools (.dockerignore leaves tests, benchmarks and CI scripts out).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# The code and the collected static files belong to root and are read-only for the app; the
# only places it writes are the export and upload directories, owned by its own user.
COPY . .
RUN DEBUG=0 SECRET_KEY=collectstatic-only DATABASE_URL=postgresql://build@localhost/build \
        python manage.py collectstatic --no-input -v0 \
    && useradd --system --uid 1000 --user-group --home-dir /var/lib/tracker --no-create-home \
        --shell /usr/sbin/nologin tracker \
    && mkdir -p /var/lib/tracker/export /var/lib/tracker/imports \
    && chown -R tracker:tracker /var/lib/tracker \
    && chmod 0750 /var/lib/tracker/imports

ENV EXPORT_DIR=/var/lib/tracker/export \
    IMPORT_UPLOAD_DIR=/var/lib/tracker/imports \
    GUNICORN_BIND=0.0.0.0:8000
# The published data package (shared by web and the worker) and the admin's pending uploads.
VOLUME ["/var/lib/tracker/export", "/var/lib/tracker/imports"]

USER tracker:tracker
EXPOSE 8000
# Migrations first (they are idempotent), then gunicorn in place of the shell, so it gets the
# container's stop signal. The worker service runs another command from this same image.
CMD ["sh", "-c", "python manage.py migrate --no-input && exec gunicorn -c tracker/gunicorn.conf.py tracker.wsgi:application"]
