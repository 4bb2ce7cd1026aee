"""Settings, all from the environment; a bad value stops start-up with a message naming it."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from taizhang.ops import config as _ops  # pure helpers, no Django imports: usable while settings load

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
    "taizhang.registers",  # registers (#14): long-lived objects with a history, never cases
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
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy on every response (web security below)
    # Reads the query string and body before any view and answers what cannot be read (no boundary, cut
    # short, too big) with a 400/413 in the area's format; after CSP so its answers carry the policy.
    "taizhang.web.malformed.MalformedRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",  # production (#12): sees the view's status
    # Last (as axes requires): turns a log-in that hit the failure limit into the lock-out page.
    "axes.middleware.AxesMiddleware",
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
TAIZHANG_ROLES_FILE = env_str(
    "TAIZHANG_ROLES_FILE", ""
)  # default: <mechanism dir>/org/roles.yaml, else the shipped one
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

# Intake idempotency and Open311 (#12): how long an idempotency key (the API's Idempotency-Key, the
# forms' keys, Open311's retry detection) returns the case it created; after it the key files anew.
TAIZHANG_IDEMPOTENCY_HOURS = env_int("TAIZHANG_IDEMPOTENCY_HOURS", 24, minimum=1)


# Audit (#12): signed checkpoints of the history's hash chains (taizhang/cases/checkpoints.py). The private
# key signs (`taizhang audit checkpoint`, the worker every INTERVAL seconds, 0: never); the public keys
# (comma-separated: the current one and those it replaced) verify. Key files live outside the database.
def _audit_key_file(name: str, path: str) -> str:
    if path and not Path(path).is_file():
        raise ImproperlyConfigured(f"{name}={path!r}: no such key file")
    return path


TAIZHANG_AUDIT_SIGNING_KEY = _audit_key_file(
    "TAIZHANG_AUDIT_SIGNING_KEY", env_str("TAIZHANG_AUDIT_SIGNING_KEY", "").strip()
)
TAIZHANG_AUDIT_VERIFY_KEY = [
    _audit_key_file("TAIZHANG_AUDIT_VERIFY_KEY", p) for p in env_list("TAIZHANG_AUDIT_VERIFY_KEY", "")
]
TAIZHANG_AUDIT_CHECKPOINT_INTERVAL = env_int("TAIZHANG_AUDIT_CHECKPOINT_INTERVAL", 3600, minimum=0)
# Every checkpoint's signed statement is also appended here (one JSON line), outside the database.
TAIZHANG_AUDIT_CHECKPOINT_LOG = env_str("TAIZHANG_AUDIT_CHECKPOINT_LOG", "")
if TAIZHANG_AUDIT_CHECKPOINT_LOG and not Path(TAIZHANG_AUDIT_CHECKPOINT_LOG).parent.is_dir():
    raise ImproperlyConfigured(
        f"TAIZHANG_AUDIT_CHECKPOINT_LOG={TAIZHANG_AUDIT_CHECKPOINT_LOG!r}: its directory does not exist"
    )
# The log is the signer's memory outside the database: without it, deleting every checkpoint row would
# let the next checkpoint sign a rewritten history.
if TAIZHANG_AUDIT_SIGNING_KEY and not TAIZHANG_AUDIT_CHECKPOINT_LOG:
    raise ImproperlyConfigured(
        "TAIZHANG_AUDIT_SIGNING_KEY is set but TAIZHANG_AUDIT_CHECKPOINT_LOG is not: the signer needs a "
        "checkpoint log outside the database (set it to a file off the database server)"
    )

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"taizhang": {"handlers": ["console"], "level": env_str("TAIZHANG_LOG_LEVEL", "INFO")}},
}

# ---- Uploads (issue #12): quotas, unused uploads, how attachments are served -------------------------
# Per person (or, for anonymous portal senders, per address) over a rolling window: how many files and
# how many bytes may be uploaded; and how many photos one form (case, transition, portal) may carry.
TAIZHANG_UPLOAD_QUOTA_COUNT = env_int("TAIZHANG_UPLOAD_QUOTA_COUNT", 200, minimum=1)
TAIZHANG_UPLOAD_QUOTA_BYTES = env_int("TAIZHANG_UPLOAD_QUOTA_MB", 500, minimum=1) * 1024 * 1024
TAIZHANG_UPLOAD_QUOTA_HOURS = env_int("TAIZHANG_UPLOAD_QUOTA_HOURS", 24, minimum=1)
if TAIZHANG_UPLOAD_QUOTA_BYTES < TAIZHANG_MAX_UPLOAD_BYTES:
    raise ImproperlyConfigured(
        f"TAIZHANG_UPLOAD_QUOTA_MB={os.environ.get('TAIZHANG_UPLOAD_QUOTA_MB')!r}: must be at least "
        f"TAIZHANG_MAX_UPLOAD_MB ({TAIZHANG_MAX_UPLOAD_BYTES // (1024 * 1024)}), or no file could be sent"
    )
TAIZHANG_MAX_PHOTOS_PER_FORM = env_int("TAIZHANG_MAX_PHOTOS_PER_FORM", 9, minimum=1)
# Uploads no history row has taken after this many hours are removed (file and row) by `taizhang worker`.
TAIZHANG_UNCLAIMED_UPLOAD_HOURS = env_int("TAIZHANG_UNCLAIMED_UPLOAD_HOURS", 24, minimum=1)
# Downloads always pass the permission check in the app; the bytes may then be sent by the web server:
# nginx's X-Accel-Redirect to an `internal` location with this prefix, or X-Sendfile (Apache, lighttpd).
# With S3 the check is followed by a redirect to a signed URL that expires after so many seconds.
TAIZHANG_MEDIA_ACCEL_REDIRECT = env_str("TAIZHANG_MEDIA_ACCEL_REDIRECT", "").strip()
if TAIZHANG_MEDIA_ACCEL_REDIRECT and not (
    TAIZHANG_MEDIA_ACCEL_REDIRECT.startswith("/") and TAIZHANG_MEDIA_ACCEL_REDIRECT.endswith("/")
):
    raise ImproperlyConfigured(
        f"TAIZHANG_MEDIA_ACCEL_REDIRECT={TAIZHANG_MEDIA_ACCEL_REDIRECT!r}: expected a path such as /protected/"
    )
TAIZHANG_MEDIA_SENDFILE = env_bool("TAIZHANG_MEDIA_SENDFILE", False)
TAIZHANG_MEDIA_SIGNED_URL_SECONDS = env_int("TAIZHANG_MEDIA_SIGNED_URL_SECONDS", 60, minimum=1)
if TAIZHANG_MEDIA_ACCEL_REDIRECT and TAIZHANG_MEDIA_SENDFILE:
    raise ImproperlyConfigured(
        "TAIZHANG_MEDIA_SENDFILE=1: choose it or TAIZHANG_MEDIA_ACCEL_REDIRECT, not both"
    )
if _media_storage == "s3" and (TAIZHANG_MEDIA_ACCEL_REDIRECT or TAIZHANG_MEDIA_SENDFILE):
    raise ImproperlyConfigured(
        "TAIZHANG_MEDIA_STORAGE=s3: files are sent by signed URLs; "
        "unset TAIZHANG_MEDIA_ACCEL_REDIRECT and TAIZHANG_MEDIA_SENDFILE"
    )
# WhiteNoise serves every file under STATIC_ROOT to anybody: attachments must never live there.
if MEDIA_ROOT.resolve() == STATIC_ROOT.resolve() or STATIC_ROOT.resolve() in MEDIA_ROOT.resolve().parents:
    raise ImproperlyConfigured(
        f"TAIZHANG_MEDIA_ROOT={str(MEDIA_ROOT)!r}: must not be inside TAIZHANG_STATIC_ROOT ({STATIC_ROOT}), "
        "which is served to anybody"
    )

# -- Web security (#12): Content-Security-Policy, failed log-in limits, the client's address ------------------


def env_header(name: str) -> str:
    """An HTTP header name such as X-Forwarded-For, or empty."""
    value = os.environ.get(name, "").strip()
    if value and not re.fullmatch(r"[A-Za-z0-9-]+", value):
        raise ImproperlyConfigured(f"{name}={value!r}: expected a header name such as X-Forwarded-For")
    return value


def tile_origins(template: str) -> list[str]:
    """The origins map tiles load from, for img-src: none for a local /path (covered by 'self'), and for
    a {s} in the host the three hosts Leaflet fills it with (a, b, c)."""
    if not template.startswith(("http://", "https://")):
        return []
    parts = urlsplit(template)
    if "{" in parts.netloc.replace("{s}", ""):
        raise ImproperlyConfigured(
            f"TAIZHANG_MAP_TILES={template!r}: only {{s}} may stand in the host name (a, b or c)"
        )
    hosts = [parts.netloc.replace("{s}", s) for s in "abc"] if "{s}" in parts.netloc else [parts.netloc]
    return [f"{parts.scheme}://{host}" for host in hosts]


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],  # our own files only: no inline script, no eval (htmx runs with allowEval off)
        # Style attributes stay allowed: ECharts writes its tooltips as markup with style="…", and the
        # templates colour legends and size bars with them. Styles cannot run script.
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:", *tile_origins(TAIZHANG_MAP_TILES)],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
INSTALLED_APPS += [
    "csp",
    "axes",
    "ninja",  # the API docs use django-ninja's own Swagger UI files instead of a CDN (no inline script)
]

# Failed log-ins (web, admin) per account and address pair, and all failures (wrong API tokens too) per
# address: taizhang.web.lockout.
TAIZHANG_LOGIN_FAILURE_LIMIT = env_int("TAIZHANG_LOGIN_FAILURE_LIMIT", 5, minimum=1)
TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
if TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT < TAIZHANG_LOGIN_FAILURE_LIMIT:
    raise ImproperlyConfigured(
        f"TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT={TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT}: must be at least "
        f"TAIZHANG_LOGIN_FAILURE_LIMIT={TAIZHANG_LOGIN_FAILURE_LIMIT} (an address's failures over all accounts)"
    )
TAIZHANG_LOGIN_COOLOFF_MINUTES = env_int("TAIZHANG_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out account+address pair or address
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = "taizhang.web.lockout.failure_limit"  # reads the two limits above
AXES_COOLOFF_TIME = timedelta(minutes=TAIZHANG_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = "taizhang.web.lockout.lockout_parameters"
AXES_LOCKOUT_CALLABLE = "taizhang.web.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "taizhang.web.client.limit_address"
AXES_RESET_ON_SUCCESS = False  # taizhang.web.lockout clears only the signing-in pair's failures
AXES_DISABLE_ACCESS_LOG = True  # failures are what is counted; successful log-ins are not kept
# Masked in the stored attempts and the logs: besides axes' own, a wrong Open311 POST's key and contact data.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "api_key", "first_name", "last_name", "phone", "email"]

# The client's address (per-address limits: log-in, tokens, the portal): REMOTE_ADDR, unless requests
# come through reverse proxies listed in TAIZHANG_TRUSTED_PROXIES that set TAIZHANG_TRUSTED_PROXY_HEADER.
TAIZHANG_TRUSTED_PROXY_HEADER = env_header("TAIZHANG_TRUSTED_PROXY_HEADER")
TAIZHANG_TRUSTED_PROXIES = [str(net) for net in _ops.env_networks("TAIZHANG_TRUSTED_PROXIES", "")]
if TAIZHANG_TRUSTED_PROXY_HEADER and not TAIZHANG_TRUSTED_PROXIES:
    raise ImproperlyConfigured(
        f"TAIZHANG_TRUSTED_PROXY_HEADER={TAIZHANG_TRUSTED_PROXY_HEADER!r} needs TAIZHANG_TRUSTED_PROXIES "
        "(the addresses of the proxies that set it); otherwise any client could forge its address"
    )
# Per-address limits count an IPv6 client by this network prefix: one subscriber holds a whole /64.
TAIZHANG_IPV6_LIMIT_PREFIX = env_int("TAIZHANG_IPV6_LIMIT_PREFIX", 64, minimum=32)
if TAIZHANG_IPV6_LIMIT_PREFIX > 128:
    raise ImproperlyConfigured(
        f"TAIZHANG_IPV6_LIMIT_PREFIX={TAIZHANG_IPV6_LIMIT_PREFIX}: must be at most 128"
    )

# --- Production (#12): serving, database pool, security, logs, metrics ------------------------------------
# `taizhang serve` runs gunicorn with taizhang/gunicorn_conf.py; README "Production" explains every variable.

# Sizing: two gunicorn worker processes per core, plus one (Python runs one thread at a time), a few threads each.
TAIZHANG_WEB_WORKERS = env_int("TAIZHANG_WEB_WORKERS", _ops.default_workers(), minimum=1)
TAIZHANG_WEB_THREADS = env_int("TAIZHANG_WEB_THREADS", 4, minimum=1)
TAIZHANG_WEB_TIMEOUT = env_int("TAIZHANG_WEB_TIMEOUT", 60, minimum=5)
TAIZHANG_WEB_BIND = env_str("TAIZHANG_WEB_BIND", "127.0.0.1:8000")
TAIZHANG_ACCESS_LOG = env_bool("TAIZHANG_ACCESS_LOG", False)
# The reverse proxies in front (TAIZHANG_TRUSTED_PROXIES, TAIZHANG_TRUSTED_PROXY_HEADER: web security above)
# are the only peers whose forwarding header, X-Request-ID and HTTPS header are believed (taizhang.ops.requestid).

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
