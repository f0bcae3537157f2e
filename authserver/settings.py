"""Settings, all read from the environment (see docs/settings.md).

Development (DEBUG on) needs nothing set: an SQLite file, a local-memory cache and a secret key
generated once into the git-ignored file `.secret_key`. Production needs at least SECRET_KEY,
ISSUER and DATABASE_URL.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from authserver.environment import (
    LONGEST_LIFETIME,
    development_secret_key,
    email_backend,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_rate,
    env_str,
    env_words,
    host_pattern,
    issuer_from_env,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Django's generic classes (ModelAdmin[Client], ModelForm[Client]) subscriptable at run time, as
# the type checker reads them.
django_stubs_ext.monkeypatch()

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Refusing to start with DEBUG off and no secret key: "
            "set SECRET_KEY to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'), or set DEBUG=true for development."
        )
    SECRET_KEY = development_secret_key(BASE_DIR / ".secret_key")

ISSUER = issuer_from_env(DEBUG)
# How pages name this server to people ("not reviewed by ...") and the admin's header and title.
SERVER_NAME = env_str("SERVER_NAME", urlsplit(ISSUER).hostname or "Authorization server")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [host_pattern(urlsplit(ISSUER).hostname)],
)

# Behind exactly one proxy that appends the client's address to X-Forwarded-For: rate limits
# and security events then see the client, not the proxy.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

if env_bool("TRUST_X_FORWARDED_PROTO", False):
    # Behind a TLS-terminating proxy that sets this header (and strips it from clients).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "authserver.apps.OperatorsAdminConfig",  # django.contrib.admin, with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "events",
    "accounts",
    "oauth",
    "developers",
]

# The demo client app: a stand-in third-party app that runs the flow against this server.
DEMO_CLIENT_ENABLED = env_bool("DEMO_CLIENT", DEBUG)
if DEMO_CLIENT_ENABLED:
    INSTALLED_APPS.append("democlient")

# Local Google, Naver and Kakao fakes for development: `manage.py fakeproviders`, `make run FAKES=1`
if DEBUG:
    INSTALLED_APPS.append("fakeproviders")

MIDDLEWARE = [
    "infra.logs.RequestLog",
    "infra.metrics.RequestMetrics",
    "django.middleware.security.SecurityMiddleware",
    "authserver.middleware.ContentSecurityPolicy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sessions.SessionSeen",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "authserver.middleware.SharedCacheOutage",
]

if not DEBUG:
    # Serves the collected static files (`manage.py collectstatic`) in production.
    MIDDLEWARE.insert(3, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "authserver.urls"
WSGI_APPLICATION = "authserver.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
# "transaction": DATABASE_URL leads to PgBouncer in transaction pooling mode, where each
# transaction may run on another server connection: nothing may outlive a transaction on one
# (docs/pgbouncer.ini; behaviour.md#on-the-database).
DATABASE_POOLING = env_choice("DATABASE_POOLING", "session", ("session", "transaction"), lower=True)
if DATABASE_URL:
    try:
        DATABASES = {
            "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
        }
        if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
            # Django's backend with a health check that needs no round trip (see its module).
            DATABASES["default"]["ENGINE"] = "authserver.postgresql"
            # Parameters bound by the server, and statements a connection runs again and again
            # prepared: the token endpoint's lookups are then planned once per connection, not
            # once per request (PgBouncer in transaction mode needs max_prepared_statements).
            DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
            if DATABASE_POOLING == "transaction":
                # No prepared statement (it would stay on the server connection it was made
                # on), parameters bound by the client, no cursor held open across requests.
                DATABASES["default"]["OPTIONS"] = {"prepare_threshold": None}
                DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {error}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "db.sqlite3"),
        }
    }

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
    raise ImproperlyConfigured(
        "REDIS_URL must be a redis://, rediss:// or unix:// URL, such as "
        "redis://127.0.0.1:6379/0 (the password, if any, as redis://:password@host)."
    )
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "infra.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "authserver",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Anyone may create a password account at /accounts/signup/ unless this is off.
SIGNUP_ENABLED = env_bool("SIGNUP_ENABLED", True)
# Password reset links work for an hour (and once: a new password voids them).
PASSWORD_RESET_TIMEOUT = 3600

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions (the server's own pages only) live where every process reads them: in Redis, written
# through to the database; without Redis in the database alone (a cache in each process's memory
# would serve a worker its stale copy of a session another worker changed).
SESSION_ENGINE = f"django.contrib.sessions.backends.{'cached_db' if REDIS_URL else 'db'}"
# Browser security. Served over https (the issuer says so): secure cookies, HSTS, redirects to
# https (behind a TLS-terminating proxy, set TRUST_X_FORWARDED_PROTO).
HTTPS = ISSUER.startswith("https://")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# Load balancers probe over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$", r"^ping$", r"^metrics$"]
# 0 turns HSTS off (check --deploy then warns): for a first, cautious rollout.
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600, minimum=0) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
SECURE_REFERRER_POLICY = "same-origin"

# APIs take access tokens only (oauth/authentication.py); sessions are for the server's pages.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oauth.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "authserver.api.JSONOnly",
    "UNAUTHENTICATED_USER": None,
}

# Tokens. Lifetimes are in seconds; a client may override the access and refresh lifetimes.
AUTHORIZATION_CODE_LIFETIME = env_int("AUTHORIZATION_CODE_LIFETIME", 60, maximum=LONGEST_LIFETIME)
ACCESS_TOKEN_LIFETIME = env_int("ACCESS_TOKEN_LIFETIME", 10 * 60, maximum=LONGEST_LIFETIME)
ID_TOKEN_LIFETIME = env_int("ID_TOKEN_LIFETIME", 10 * 60, maximum=LONGEST_LIFETIME)
REFRESH_TOKEN_IDLE_LIFETIME = env_int(
    "REFRESH_TOKEN_IDLE_LIFETIME", 30 * 24 * 3600, maximum=LONGEST_LIFETIME
)
REFRESH_TOKEN_ABSOLUTE_LIFETIME = env_int(
    "REFRESH_TOKEN_ABSOLUTE_LIFETIME", 90 * 24 * 3600, maximum=LONGEST_LIFETIME
)
# A refresh token presented again this soon after its rotation gets the first answer again (a
# client whose answer was lost retries); later it is reuse. 0 turns it off. At most 5 minutes:
# a retry comes within seconds, and every second of grace is one a thief's reuse goes unnoticed.
REFRESH_RETRY_GRACE = env_int("REFRESH_RETRY_GRACE", 30, minimum=0, maximum=300)

SIGNING_ALGORITHMS = ("RS256", "ES256")
ACCESS_TOKEN_ALGORITHM = env_choice("ACCESS_TOKEN_ALGORITHM", "RS256", SIGNING_ALGORITHMS)
ID_TOKEN_ALGORITHM = env_choice("ID_TOKEN_ALGORITHM", "RS256", SIGNING_ALGORITHMS)
# The `aud` of access tokens: the identifier of the resource servers that accept them.
ACCESS_TOKEN_AUDIENCE = env_str("ACCESS_TOKEN_AUDIENCE", ISSUER)
# A resource server running apart from this server verifies tokens with keys from this URL.
ACCESS_TOKEN_JWKS_URL = env_str("ACCESS_TOKEN_JWKS_URL")
# Encrypts signing keys' private parts at rest; derived from SECRET_KEY when unset.
SIGNING_KEY_ENCRYPTION_KEY = env_str("SIGNING_KEY_ENCRYPTION_KEY")
# How often a process asks the shared cache whether signing keys or clients changed.
SHARED_CACHE_CHECK_INTERVAL = env_int("SHARED_CACHE_CHECK_INTERVAL", 5)

# Rate limits, counted in the shared cache (Redis) so that every instance counts together:
# "count/seconds". Over a limit: 429 with Retry-After, and a security event.
RATE_LIMITS = {
    # Password sign-ins (accounts/throttling.py): per account from browsers without its device
    # cookie (past the count, growing waits: RATE_DELAYS), per address, per device cookie.
    # Upstream sign-ins started, and their failures recorded as events, per address.
    "sign_in_account": env_rate("RATE_LIMIT_SIGN_IN_ACCOUNT", "5/86400"),
    "sign_in_address": env_rate("RATE_LIMIT_SIGN_IN_ADDRESS", "30/900"),
    "sign_in_device": env_rate("RATE_LIMIT_SIGN_IN_DEVICE", "10/86400"),
    "upstream_start_address": env_rate("RATE_LIMIT_UPSTREAM_START_ADDRESS", "60/600"),
    "upstream_failure_address": env_rate("RATE_LIMIT_UPSTREAM_FAILURE_ADDRESS", "10/900"),
    "token_client": env_rate("RATE_LIMIT_TOKEN_CLIENT", "600/60"),
    "token_address": env_rate("RATE_LIMIT_TOKEN_ADDRESS", "300/60"),
    "introspection_client": env_rate("RATE_LIMIT_INTROSPECTION_CLIENT", "1200/60"),
    # Requests from one address, whether or not their client authentication succeeds.
    "introspection_address": env_rate("RATE_LIMIT_INTROSPECTION_ADDRESS", "1200/60"),
    "revocation_address": env_rate("RATE_LIMIT_REVOCATION_ADDRESS", "300/60"),
    # Apps created in the developer console, per person.
    "app_create_person": env_rate("RATE_LIMIT_APP_CREATE", "10/3600"),
    # Requests to /oauth/register and the registration_client_uri, per address.
    "registration_address": env_rate("RATE_LIMIT_REGISTRATION_ADDRESS", "60/60"),
    # Nonces handed to our native apps for their SDK sign-ins (oauth/native.py), per address.
    "native_nonce_address": env_rate("RATE_LIMIT_NATIVE_NONCE_ADDRESS", "60/600"),
    # Mail sent for people: sign-ups per address, verification links again per account,
    # password resets per address and per email (a flood of mail to one person is harassment).
    "signup_address": env_rate("RATE_LIMIT_SIGNUP_ADDRESS", "10/3600"),
    "verification_resend": env_rate("RATE_LIMIT_VERIFICATION_RESEND", "3/3600"),
    "password_reset_address": env_rate("RATE_LIMIT_PASSWORD_RESET_ADDRESS", "10/3600"),
    "password_reset_email": env_rate("RATE_LIMIT_PASSWORD_RESET_EMAIL", "3/3600"),
}
# The developer console (developers/): apps one person may own, testers of an app in development.
DEVELOPER_MAX_APPS = env_int("DEVELOPER_MAX_APPS", 10)
DEVELOPER_MAX_TESTERS = env_int("DEVELOPER_MAX_TESTERS", 20, maximum=20)

# Waits of limits that slow rather than refuse: first, longest (seconds); device cookies' age.
RATE_DELAYS = {"sign_in_account": (env_int("SIGN_IN_DELAY", 30), env_int("SIGN_IN_DELAY_MAX", 900))}
DEVICE_COOKIE_AGE = env_int("DEVICE_COOKIE_AGE", 365 * 24 * 3600, maximum=LONGEST_LIFETIME)

# Sign-in with Google, Naver and Kakao (accounts/providers/). A provider without a client id is
# not offered. Every endpoint can be pointed elsewhere (tests, staging, proxies).
GOOGLE_CLIENT_ID = env_str("GOOGLE_CLIENT_ID")
GOOGLE_CLIENT_SECRET = env_str("GOOGLE_CLIENT_SECRET")
GOOGLE_AUTHORIZE_URL = env_str(
    "GOOGLE_AUTHORIZE_URL", "https://accounts.google.com/o/oauth2/v2/auth"
)
GOOGLE_TOKEN_URL = env_str("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token")
GOOGLE_USERINFO_URL = env_str(
    "GOOGLE_USERINFO_URL", "https://openidconnect.googleapis.com/v1/userinfo"
)
GOOGLE_JWKS_URL = env_str("GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs")
GOOGLE_ISSUER = env_str("GOOGLE_ISSUER", "https://accounts.google.com")
NAVER_CLIENT_ID = env_str("NAVER_CLIENT_ID")
NAVER_CLIENT_SECRET = env_str("NAVER_CLIENT_SECRET")
NAVER_AUTHORIZE_URL = env_str("NAVER_AUTHORIZE_URL", "https://nid.naver.com/oauth2.0/authorize")
NAVER_TOKEN_URL = env_str("NAVER_TOKEN_URL", "https://nid.naver.com/oauth2.0/token")
NAVER_PROFILE_URL = env_str("NAVER_PROFILE_URL", "https://openapi.naver.com/v1/nid/me")
# After rotating the Naver secret, the previous one still verifies unlink notices until unset.
NAVER_PREVIOUS_CLIENT_SECRET = env_str("NAVER_PREVIOUS_CLIENT_SECRET")
KAKAO_CLIENT_ID = env_str("KAKAO_CLIENT_ID")
KAKAO_CLIENT_SECRET = env_str("KAKAO_CLIENT_SECRET")
KAKAO_SCOPES = env_str("KAKAO_SCOPES", "profile_nickname profile_image account_email")
KAKAO_AUTHORIZE_URL = env_str("KAKAO_AUTHORIZE_URL", "https://kauth.kakao.com/oauth/authorize")
KAKAO_TOKEN_URL = env_str("KAKAO_TOKEN_URL", "https://kauth.kakao.com/oauth/token")
KAKAO_PROFILE_URL = env_str("KAKAO_PROFILE_URL", "https://kapi.kakao.com/v2/user/me")
KAKAO_JWKS_URL = env_str("KAKAO_JWKS_URL", "https://kauth.kakao.com/.well-known/jwks.json")
KAKAO_ISSUER = env_str("KAKAO_ISSUER", "https://kauth.kakao.com")
# Our own mobile apps signing in with Google's or Kakao's SDK (token exchange, accounts/native.py):
# the app keys their id_tokens may be issued to (space-separated), and the Kakao app whose
# access tokens are accepted (its numeric id, which access_token_info names).
GOOGLE_NATIVE_CLIENT_IDS = env_words("GOOGLE_NATIVE_CLIENT_IDS")
KAKAO_NATIVE_APP_KEY = env_words("KAKAO_NATIVE_APP_KEY")
KAKAO_APP_ID = env_str("KAKAO_APP_ID")
# The primary admin key, which Kakao's unlink webhook presents (accounts/unlink_callbacks.py).
KAKAO_ADMIN_KEY = env_str("KAKAO_ADMIN_KEY")
KAKAO_TOKEN_INFO_URL = env_str(
    "KAKAO_TOKEN_INFO_URL", "https://kapi.kakao.com/v1/user/access_token_info"
)
# Kakao's unlink API, told (with the admin key) when a person withdraws.
KAKAO_UNLINK_URL = env_str("KAKAO_UNLINK_URL", "https://kapi.kakao.com/v1/user/unlink")
# Seconds to wait for a provider before giving up (at most 10: a worker thread waits meanwhile).
UPSTREAM_TIMEOUT = env_int("UPSTREAM_TIMEOUT", 10, maximum=10)

# Mail (sign-up, verification, password reset), by Django's own setting names. Development
# prints it to the console; production refuses to start without a server to send it through.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = email_backend(EMAIL_HOST, DEBUG)
EMAIL_PORT = env_int("EMAIL_PORT", 25, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"noreply@{urlsplit(ISSUER).hostname}")
# Seconds to wait for the mail server (at most 30: the person waits meanwhile).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, maximum=30)

DEFAULT_EXCEPTION_REPORTER_FILTER = "authserver.reporting.SettingsFilter"

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"), upper=True)

# /metrics (authserver/metrics.py): off unless one of these is set. Scrapers send the token as
# a bearer token, or come from one of the networks (the address TRUST_X_FORWARDED_FOR trusts).
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS")
# Where each gunicorn worker keeps its counts for a scrape to sum (gunicorn.conf.py sets it;
# prometheus_client reads it itself, at import).
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")

# "json": one JSON object per line, for log collectors (infra/logs.py); "text": the message.
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"), lower=True)

LOGGING_CONFIG = "infra.logs.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "infra.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # authlib logs issued tokens at DEBUG: never let them reach the logs.
    "loggers": {"authlib": {"level": "INFO"}},
}
