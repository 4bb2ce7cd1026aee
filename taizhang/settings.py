"""Settings, all from the environment; a bad value stops start-up with a message naming it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r}: must be at least {minimum}")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r}: expected one of {', '.join(choices)}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_dir(name: str, default: Path) -> Path:
    """A directory the platform may create: empty means the default; an existing file is refused."""
    raw = os.environ.get(name, "").strip()
    path = Path(raw) if raw else default
    if path.exists() and not path.is_dir():
        raise ImproperlyConfigured(f"{name}={raw!r}: {path} exists and is not a directory")
    return path


def env_tile_url(name: str) -> str:
    """A map tile URL template (http(s)://… or a local /path, with {z}, {x} and {y}), or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        return ""
    if not value.startswith(("http://", "https://", "/")):
        raise ImproperlyConfigured(f"{name}={value!r}: expected an http(s):// URL or a /path")
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in value]
    if missing:
        raise ImproperlyConfigured(f"{name}={value!r}: the template lacks {', '.join(missing)}")
    return value


# Production (#12): TAIZHANG_ENV=production turns debug off by default and refuses unsafe settings (block at the end).
TAIZHANG_ENV = env_choice("TAIZHANG_ENV", "development", ("development", "production"))
DEBUG = env_bool("TAIZHANG_DEBUG", TAIZHANG_ENV == "development")
SECRET_KEY = os.environ.get("TAIZHANG_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("TAIZHANG_SECRET_KEY must be set when TAIZHANG_DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("TAIZHANG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("TAIZHANG_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",  # production (#12): request, latency and database metrics at /metrics
    "taizhang.org",
    "taizhang.mechanisms",
    "taizhang.cases",
    "taizhang.clock",
    "taizhang.demo",
    "taizhang.intake",
    "taizhang.insight",
    "taizhang.web",
    "taizhang.ops",  # production (#12): health, request ids, JSON logs, metrics, `taizhang serve`
]

MIDDLEWARE = [
    # Production (#12), outermost so that every log line of a request carries its id, every request is
    # counted, and probes get /healthz, /readyz and /metrics before host checks and HTTPS redirects.
    "taizhang.ops.requestid.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "taizhang.ops.endpoints.OpsEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (our vendored htmx, ECharts, Leaflet) served by the app itself: no CDN, no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",  # production (#12): innermost, sees the view
]

ROOT_URLCONF = "taizhang.urls"
WSGI_APPLICATION = "taizhang.wsgi.application"
AUTH_USER_MODEL = "org.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "taizhang.web.context.navigation",
            ],
        },
    },
]

# SQLite is the embedded default; DATABASE_URL selects PostgreSQL in production.
_default_db = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
_db_url = os.environ.get("DATABASE_URL") or _default_db
if not _db_url.startswith(("sqlite:", "postgres:", "postgresql:")):
    raise ImproperlyConfigured(f"DATABASE_URL={_db_url!r}: only sqlite:// and postgresql:// are supported")
try:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL={_db_url!r}: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two writers queue instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
    }
    # Tests use a file too: in-memory shared-cache databases lock whole tables and ignore the busy
    # timeout, so concurrent writers would fail there although they queue fine on a real file.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"taizhang-test-{os.getpid()}.sqlite3")
    }
if os.environ.get("TAIZHANG_TEST_DB_NAME"):  # lets parallel runs use their own test database
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TAIZHANG_TEST_DB_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("TAIZHANG_STATIC_ROOT", str(BASE_DIR / "var" / "static")))

# Attachments: local disk by default, any S3-compatible store with TAIZHANG_MEDIA_STORAGE=s3.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("TAIZHANG_MEDIA_ROOT", str(BASE_DIR / "media")))
_media_storage = env_choice("TAIZHANG_MEDIA_STORAGE", "file", ("file", "s3"))
if _media_storage == "s3":
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise ImproperlyConfigured(
            "TAIZHANG_MEDIA_STORAGE=s3 needs boto3: pip install 'taizhang[s3]'"
        ) from None
    _bucket = os.environ.get("TAIZHANG_S3_BUCKET")
    if not _bucket:
        raise ImproperlyConfigured("TAIZHANG_MEDIA_STORAGE=s3 needs TAIZHANG_S3_BUCKET")
    _media = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "endpoint_url": os.environ.get("TAIZHANG_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("TAIZHANG_S3_REGION") or None,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
else:
    _media = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
TAIZHANG_MAX_UPLOAD_BYTES = env_int("TAIZHANG_MAX_UPLOAD_MB", 10, minimum=1) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = TAIZHANG_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Mechanisms, rule packs and holiday data.
TAIZHANG_MECHANISM_DIR = Path(env_str("TAIZHANG_MECHANISM_DIR", str(BASE_DIR / "mechanisms")))
TAIZHANG_CALENDAR_DIR = Path(env_str("TAIZHANG_CALENDAR_DIR", str(TAIZHANG_MECHANISM_DIR / "calendar")))
TAIZHANG_CALENDAR_UNKNOWN_YEAR = env_choice("TAIZHANG_CALENDAR_UNKNOWN_YEAR", "error", ("error", "weekends"))
TAIZHANG_BUSINESS_HOURS = env_list("TAIZHANG_BUSINESS_HOURS", "08:30-12:00,14:00-17:30")
# Shown in the Open311 discovery document: who other systems contact about this endpoint.
TAIZHANG_OPEN311_CONTACT = env_str("TAIZHANG_OPEN311_CONTACT", "")
TAIZHANG_WORKER_INTERVAL = env_int("TAIZHANG_WORKER_INTERVAL", 30, minimum=1)
# Trained topic classifiers for automatic dispatch (`taizhang insight train`): one directory per
# version and an ACTIVE file naming the one intake uses (taizhang.insight.classify.store).
TAIZHANG_MODEL_DIR = env_dir("TAIZHANG_MODEL_DIR", BASE_DIR / "var" / "models")
# The dashboard's basemap: a tile URL template, its attribution and the coordinate system its tiles are
# drawn in (Chinese providers use gcj02: points are shifted to match). Empty: the division outlines on a
# plain background, which works offline.
TAIZHANG_MAP_TILES = env_tile_url("TAIZHANG_MAP_TILES")
TAIZHANG_MAP_ATTRIBUTION = env_str("TAIZHANG_MAP_ATTRIBUTION", "")
TAIZHANG_MAP_CRS = env_choice("TAIZHANG_MAP_CRS", "wgs84", ("wgs84", "gcj02"))
# Similar cases at intake: open cases created in the last N days are compared (taizhang.insight).
TAIZHANG_SIMILAR_DAYS = env_int("TAIZHANG_SIMILAR_DAYS", 30, minimum=1)

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- Production (#12): serving, database pool, security, logs, metrics ------------------------------------
# `taizhang serve` runs gunicorn with taizhang/gunicorn_conf.py; README "Production" explains every variable.
from taizhang.ops import config as _ops  # noqa: E402  (pure helpers: no Django imports)

# Sizing: two gunicorn worker processes per core, plus one (Python runs one thread at a time), a few threads each.
TAIZHANG_WEB_WORKERS = env_int("TAIZHANG_WEB_WORKERS", _ops.default_workers(), minimum=1)
TAIZHANG_WEB_THREADS = env_int("TAIZHANG_WEB_THREADS", 4, minimum=1)
TAIZHANG_WEB_TIMEOUT = env_int("TAIZHANG_WEB_TIMEOUT", 60, minimum=5)
TAIZHANG_WEB_BIND = env_str("TAIZHANG_WEB_BIND", "127.0.0.1:8000")
TAIZHANG_ACCESS_LOG = env_bool("TAIZHANG_ACCESS_LOG", False)
# Addresses of the reverse proxies in front (nginx): only they may set X-Forwarded-For, X-Request-ID and the
# HTTPS header; from anybody else those headers are dropped.
TAIZHANG_TRUSTED_PROXIES = _ops.env_networks("TAIZHANG_TRUSTED_PROXIES", "")

# PostgreSQL: a bounded psycopg pool per worker process (CONN_MAX_AGE must then be 0), so that workers ×
# TAIZHANG_DB_POOL_MAX connections at most reach the server whatever the number of clients; a request that
# gets no connection within TAIZHANG_DB_POOL_TIMEOUT seconds is answered 503 (taizhang.ops.errors).
# Behind PgBouncer in transaction mode set TAIZHANG_DB_PGBOUNCER=1 instead (no pool here, no server cursors).
TAIZHANG_DB_PGBOUNCER = env_bool("TAIZHANG_DB_PGBOUNCER", False)
TAIZHANG_DB_POOL = env_bool("TAIZHANG_DB_POOL", TAIZHANG_ENV == "production" and not TAIZHANG_DB_PGBOUNCER)
TAIZHANG_DB_POOL_MIN = env_int("TAIZHANG_DB_POOL_MIN", 1, minimum=0)
TAIZHANG_DB_POOL_MAX = env_int("TAIZHANG_DB_POOL_MAX", TAIZHANG_WEB_THREADS, minimum=1)
TAIZHANG_DB_POOL_TIMEOUT = env_int("TAIZHANG_DB_POOL_TIMEOUT", 10, minimum=1)
if TAIZHANG_DB_POOL_MIN > TAIZHANG_DB_POOL_MAX:
    raise ImproperlyConfigured(
        f"TAIZHANG_DB_POOL_MIN={TAIZHANG_DB_POOL_MIN} exceeds TAIZHANG_DB_POOL_MAX={TAIZHANG_DB_POOL_MAX}"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a connection the server dropped is replaced, not used
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"  # same backend, with metrics
    if TAIZHANG_DB_POOL:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": TAIZHANG_DB_POOL_MIN,
            "max_size": TAIZHANG_DB_POOL_MAX,
            "timeout": TAIZHANG_DB_POOL_TIMEOUT,
            "name": "taizhang",
        }
    DISABLE_SERVER_SIDE_CURSORS = TAIZHANG_DB_PGBOUNCER
else:
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.sqlite3"
TAIZHANG_ALLOW_SQLITE = env_bool("TAIZHANG_ALLOW_SQLITE", False)

# HTTPS: secure by default in production (TLS ends at the proxy, which says so in TAIZHANG_PROXY_SSL_HEADER).
SECURE_PROXY_SSL_HEADER = _ops.env_proxy_ssl_header("TAIZHANG_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = env_bool("TAIZHANG_SSL_REDIRECT", TAIZHANG_ENV == "production")
SECURE_HSTS_SECONDS = env_int("TAIZHANG_HSTS_SECONDS", 31536000 if TAIZHANG_ENV == "production" else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("TAIZHANG_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("TAIZHANG_HSTS_PRELOAD", True)
TAIZHANG_SECURE_COOKIES = env_bool("TAIZHANG_SECURE_COOKIES", TAIZHANG_ENV == "production")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = TAIZHANG_SECURE_COOKIES
if TAIZHANG_ENV == "production":
    # Hashed names, so browsers may cache static files for ever; collected by `taizhang serve`.
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    _ops.refuse_unsafe_production(
        debug=DEBUG,
        secret_key=SECRET_KEY,
        allowed_hosts=ALLOWED_HOSTS,
        sqlite=DATABASES["default"]["ENGINE"].endswith("sqlite3") and not TAIZHANG_ALLOW_SQLITE,
        secure_cookies=TAIZHANG_SECURE_COOKIES,
        proxy_header=bool(SECURE_PROXY_SSL_HEADER),
        trusted_proxies=bool(TAIZHANG_TRUSTED_PROXIES),
    )

# Logs to stderr, one JSON object per line in production (with the request id; every 500 with its traceback).
TAIZHANG_LOG_FORMAT = env_choice(
    "TAIZHANG_LOG_FORMAT", "json" if TAIZHANG_ENV == "production" else "text", ("json", "text")
)
TAIZHANG_LOG_LEVEL = env_choice("TAIZHANG_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = _ops.logging_config(TAIZHANG_LOG_FORMAT, TAIZHANG_LOG_LEVEL)

# /metrics (Prometheus): from these addresses, or with `Authorization: Bearer <TAIZHANG_METRICS_TOKEN>`.
TAIZHANG_METRICS_TOKEN = env_str("TAIZHANG_METRICS_TOKEN", "")
TAIZHANG_METRICS_ALLOW = _ops.env_networks("TAIZHANG_METRICS_ALLOW", "127.0.0.1,::1")
if TAIZHANG_METRICS_TOKEN and len(TAIZHANG_METRICS_TOKEN) < 20:
    raise ImproperlyConfigured("TAIZHANG_METRICS_TOKEN: use at least 20 random characters")
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # prometheus_client needs it before the first metric is made
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
# --- end of Production (#12) ------------------------------------------------------------------------------
