"""Settings for Triage. Everything a deployment changes comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0.")
    # Development only: a fixed key so sessions survive restarts of `make run`.
    SECRET_KEY = "django-insecure-triage-development-key-do-not-use-in-production"

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "incidents",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "incidents.middleware.refuse_nul_in_query",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "incidents.middleware.no_store_pages",
    "audit.middleware.remember_request",
    # Last, as axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "triage.urls"

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
                "django.template.context_processors.csp",
            ],
            # Row helpers every list uses: URL patterns and timestamps.
            "builtins": ["incidents.templatetags.rows"],
        },
    },
]

WSGI_APPLICATION = "triage.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Take the write lock when a transaction starts, so two writers queue up
    # instead of failing with "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the pages' queries read a page of rows from an index, and
    # PostgreSQL's JIT (on when a plan looks expensive) spends tens of milliseconds
    # compiling each of them. A URL's own `options` come after this and may turn it on.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"-c jit=off {options.get('options', '')}".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# In development (and tests) whitenoise serves files straight from STATICFILES_DIRS.
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# A strict Content-Security-Policy: scripts and styles only from this server (the pages
# have no inline scripts or handlers); the admin's few inline pieces carry a nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Production answers over HTTPS only; `make run` and the tests serve plain http on 127.0.0.1.
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    # "Header-Name: value" the TLS-terminating proxy sets on https requests; empty: no proxy.
    _proxy_header = os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https")
    if _proxy_header.strip():
        _name, _, _value = _proxy_header.partition(":")
        SECURE_PROXY_SSL_HEADER = (
            "HTTP_" + _name.strip().upper().replace("-", "_"),
            _value.strip(),
        )
    CSRF_TRUSTED_ORIGINS = [
        origin.strip()
        for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",")
        if origin.strip()
    ]

# Trusted proxies in front of the app: the client's address is the X-Forwarded-For entry
# the first of them wrote (sign-in lockouts and the security log). 0: REMOTE_ADDR itself.
TRIAGE_PROXY_COUNT = int(os.environ.get("TRIAGE_PROXY_COUNT", "0" if DEBUG else "1"))

# Sign-in throttling (django-axes): after this many failures for one username, or from one
# address, sign-ins are refused until the cool-off has passed or an admin unlocks them
# (admin: Axes › Access attempts, or `manage.py axes_reset`).
AXES_FAILURE_LIMIT = int(os.environ.get("TRIAGE_SIGN_IN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("TRIAGE_SIGN_IN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "audit.addresses.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_of"

# E-mail through an SMTP server from the environment. Without one MAILERS stays unset and
# nothing in Triage sends mail (password reset is not offered).
_email_host = os.environ.get("DJANGO_EMAIL_HOST", "")
if _email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": int(os.environ.get("DJANGO_EMAIL_PORT", "587")),
                "username": os.environ.get("DJANGO_EMAIL_USER", ""),
                "password": os.environ.get("DJANGO_EMAIL_PASSWORD", ""),
                "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", True),
            },
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "triage@localhost")
# Password reset sends a link by e-mail: routed, and offered at sign-in, only with a server.
TRIAGE_PASSWORD_RESET = bool(_email_host)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["incidents.api.tokens.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "incidents.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Failed bearer-token attempts per client address (incidents.api.tokens).
    "DEFAULT_THROTTLE_RATES": {
        "failed_token": os.environ.get("TRIAGE_API_FAILED_TOKEN_RATE", "20/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Triage API",
    "DESCRIPTION": (
        "Incident relations, compatible with Microsoft Sentinel's API: change the host of a "
        "playbook or script written for Sentinel and it works against Triage. Authenticate "
        "with `Authorization: Bearer <token>` (`python manage.py create_api_token USERNAME`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# --- Triage's own settings -------------------------------------------------

# The most alerts one incident may hold (Microsoft Sentinel's limit).
TRIAGE_MAX_ALERTS_PER_INCIDENT = int(os.environ.get("TRIAGE_MAX_ALERTS_PER_INCIDENT", "150"))

# The Defender XDR products, by SecurityAlert ProviderName or ProductName: their alerts
# carry Defender's incident id (ExtendedProperties.IncidentId) and join that incident.
TRIAGE_DEFENDER_XDR_SOURCES = (
    "Microsoft Defender XDR",
    "MicrosoftThreatProtection",
    "Microsoft 365 Defender",
    "MDATP",
    "Microsoft Defender Advanced Threat Protection",
    "Microsoft Defender for Endpoint",
    "OATP",
    "Office 365 Advanced Threat Protection",
    "Microsoft Defender for Office 365",
    "MCAS",
    "Microsoft Cloud App Security",
    "Microsoft Defender for Cloud Apps",
    "Azure Advanced Threat Protection",
    "Microsoft Defender for Identity",
    "IPC",
    "Azure Active Directory Identity Protection",
    "Microsoft Entra ID Protection",
)

# Providers that correlate their own alerts, with the alert providers and products they
# correlate: those alerts cannot be added to or removed from the provider's incidents here.
TRIAGE_SELF_CORRELATING_PROVIDERS = {"Microsoft Defender XDR": TRIAGE_DEFENDER_XDR_SOURCES}

# Rows ingested in one transaction by `ingest_alerts` (the API takes at most 1,000 a request).
TRIAGE_INGEST_BATCH_SIZE = int(os.environ.get("TRIAGE_INGEST_BATCH_SIZE", "1000"))

# How long a move, merge or remove can be undone, in minutes.
TRIAGE_UNDO_MINUTES = int(os.environ.get("TRIAGE_UNDO_MINUTES", "15"))

# The most incidents merged into another at once.
TRIAGE_MAX_MERGE_SOURCES = 10
