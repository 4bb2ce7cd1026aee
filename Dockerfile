# Taizhang's image: the app (taizhang serve → gunicorn) and the scheduler (taizhang worker) run from it.
# WeasyPrint (monthly report PDFs) needs pango; Chinese text needs the Noto CJK fonts.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md manage.py ./
COPY taizhang ./taizhang
COPY mechanisms ./mechanisms
# Editable, as `make` installs it: the mechanisms and rule files are read from /app/mechanisms.
RUN pip install -e .

# Static files with content-hashed names, collected once into the image. TAIZHANG_ENV=production needs
# a key and host names to start at all: these are throw-away values for this one command.
RUN TAIZHANG_ENV=production \
    TAIZHANG_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    TAIZHANG_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 TAIZHANG_ALLOW_SQLITE=1 \
    TAIZHANG_STATIC_ROOT=/app/static \
    taizhang collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 --home-dir /var/lib/taizhang --create-home taizhang \
    && mkdir -p /var/lib/taizhang/media /var/lib/taizhang/models \
    && chown -R taizhang:taizhang /var/lib/taizhang
USER taizhang

ENV TAIZHANG_ENV=production \
    TAIZHANG_STATIC_ROOT=/app/static \
    TAIZHANG_MEDIA_ROOT=/var/lib/taizhang/media \
    TAIZHANG_MODEL_DIR=/var/lib/taizhang/models \
    TAIZHANG_WEB_BIND=0.0.0.0:8000

EXPOSE 8000
CMD ["taizhang", "serve", "--no-collectstatic"]
