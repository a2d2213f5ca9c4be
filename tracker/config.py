"""Settings, read from the environment with sensible defaults for the embedded demo."""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path

from tracker.clock import FixedClock


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _megabytes(name: str, default: int) -> int:
    return int(float(os.environ.get(name, default)) * 1024 * 1024)


def database_url(value: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL: `DATABASE_URL` if set, else a SQLite file under `instance/`."""
    if not value:
        return "sqlite:///" + str(Path(instance_path) / "tracker.sqlite3")
    # Heroku-style URLs name no driver; we ship psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


def read_replica(url: str | None) -> dict:
    """A replica for the reads that may lag (tracker.replica): its engine, and how late its
    data may be (seconds) before the primary serves instead, and how long a replica that
    failed is left alone."""
    settings = {
        "TRACKER_READ_MAX_LAG": _seconds("TRACKER_READ_MAX_LAG", 30),
        "TRACKER_READ_RETRY_AFTER": _seconds("TRACKER_READ_RETRY_AFTER", 10),
    }
    if url:
        settings["SQLALCHEMY_BINDS"] = {"replica": {"url": database_url(url, ""),
                                                    **engine_options(url)}}
    return settings


def engine_options(_url: str | None = None) -> dict:
    """SQLAlchemy's engine options: an error never carries the statement's parameters
    (password and token hashes) into a log or a page. No pool pre-ping: on PostgreSQL
    `tracker.deadlines` checks each connection before use, with a time limit (the pool's
    own check waits for ever on a frozen server); a SQLite file is never "gone"."""
    return {"hide_parameters": True}


def _seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def https_settings(https: bool) -> dict:
    """The cookies' flags. Served over HTTPS (TRACKER_HTTPS=1): every cookie is `Secure`,
    the session cookie is named `__Host-session` (which a browser accepts only over HTTPS,
    for the whole site and from this host alone, so a sibling subdomain cannot plant or
    overwrite it) and every answer carries HSTS (tracker.web.hardening)."""
    settings = {
        "TRACKER_HTTPS": https,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https,
    }
    if https:
        settings.update({"SESSION_COOKIE_NAME": "__Host-session", "SESSION_COOKIE_PATH": "/",
                         "SESSION_COOKIE_DOMAIN": None, "PREFERRED_URL_SCHEME": "https"})
    return settings


def database_limits() -> dict:
    """How long the database may take (seconds; 0 is no limit), read by tracker.database.
    A web request's statements and lock waits are bounded; the commands and the scheduler
    (the cutoff, imports, migrations) get a longer statement limit and no lock limit."""
    return {
        "TRACKER_DB_CONNECT_TIMEOUT": _seconds("TRACKER_DB_CONNECT_TIMEOUT", 5),
        "TRACKER_DB_STATEMENT_TIMEOUT": _seconds("TRACKER_DB_STATEMENT_TIMEOUT", 30),
        "TRACKER_DB_LOCK_TIMEOUT": _seconds("TRACKER_DB_LOCK_TIMEOUT", 10),
        "TRACKER_DB_IDLE_TIMEOUT": _seconds("TRACKER_DB_IDLE_TIMEOUT", 60),
        "TRACKER_DB_JOB_STATEMENT_TIMEOUT": _seconds("TRACKER_DB_JOB_STATEMENT_TIMEOUT", 600),
        "TRACKER_RETRY_AFTER_SECONDS": int(_seconds("TRACKER_RETRY_AFTER_SECONDS", 10)),
    }


def _secret_key(instance_path: str) -> str:
    """`SECRET_KEY` from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def from_environment(instance_path: str) -> dict:
    """Every setting the app reads, documented in the README's settings table."""
    config = _settings(instance_path)
    if os.environ.get("TRACKER_NOW"):
        # A frozen clock for demonstrations and multi-process tests; never in production.
        config["CLOCK"] = FixedClock(datetime.fromisoformat(os.environ["TRACKER_NOW"]))
    return config


def sso_settings() -> dict:
    """Single sign-on with the province's OpenID Connect provider (tracker.sso, docs/sso.md)
    and whether Tracker's own passwords may still be used."""
    return {
        # The provider's issuer URL; its discovery document is read from
        # ISSUER/.well-known/openid-configuration unless TRACKER_OIDC_DISCOVERY_URL is set.
        "TRACKER_OIDC_ISSUER": os.environ.get("TRACKER_OIDC_ISSUER", "").strip(),
        "TRACKER_OIDC_DISCOVERY_URL": os.environ.get("TRACKER_OIDC_DISCOVERY_URL", "").strip(),
        "TRACKER_OIDC_CLIENT_ID": os.environ.get("TRACKER_OIDC_CLIENT_ID", "").strip(),
        "TRACKER_OIDC_CLIENT_SECRET": os.environ.get("TRACKER_OIDC_CLIENT_SECRET", ""),
        "TRACKER_OIDC_SCOPE": os.environ.get("TRACKER_OIDC_SCOPE", "openid profile email"),
        # The ID token's claim that names the Tracker user: `email` is matched against the
        # users' e-mail (and must be verified), any other claim against the username.
        "TRACKER_OIDC_CLAIM": os.environ.get("TRACKER_OIDC_CLAIM",
                                             "preferred_username").strip(),
        # The login page's button; empty: "Đăng nhập một lần (SSO)".
        "TRACKER_OIDC_LABEL": os.environ.get("TRACKER_OIDC_LABEL", "").strip(),
        # 1: a login whose ID token says the provider used several factors (amr "mfa") needs
        # no Tracker code; 0 (default): Tracker's own second step applies as after a password.
        "TRACKER_OIDC_TRUST_MFA": _bool("TRACKER_OIDC_TRUST_MFA", False),
        "TRACKER_OIDC_TIMEOUT": _seconds("TRACKER_OIDC_TIMEOUT", 10),
        # 1: an admin's account is bound to the provider's identity at its first single
        # sign-on login, as everyone else's; 0 (default): only after another admin (or the
        # admin themselves, logged in by password) turns on "link on the next login".
        "TRACKER_OIDC_LINK_ADMINS": _bool("TRACKER_OIDC_LINK_ADMINS", False),
        # 0: nobody logs in, resets or changes a password with Tracker's own passwords; the
        # provider is the only way in (tracker.sso.policy).
        "TRACKER_LOCAL_PASSWORDS": _bool("TRACKER_LOCAL_PASSWORDS", True),
    }


def _settings(instance_path: str) -> dict:
    return {
        **sso_settings(),
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(os.environ.get("DATABASE_URL")),
        **read_replica(os.environ.get("DATABASE_READ_URL")),
        **https_settings(_bool("TRACKER_HTTPS", False)
                         or _bool("TRACKER_SECURE_COOKIES", False)),
        **database_limits(),
        # Evidence uploads: at most TRACKER_MAX_UPLOAD_MB per file; a request may carry a
        # little more (the form around the file) before it is refused with 413.
        "TRACKER_MAX_UPLOAD_BYTES": _megabytes("TRACKER_MAX_UPLOAD_MB", 10),
        "MAX_CONTENT_LENGTH": _megabytes("TRACKER_MAX_UPLOAD_MB", 10) + 256 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "TRACKER_TIMEZONE": os.environ.get("TRACKER_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "TRACKER_CUTOFF_TIME": os.environ.get("TRACKER_CUTOFF_TIME", "16:00"),
        "TRACKER_SESSION_HOURS": int(os.environ.get("TRACKER_SESSION_HOURS", "12")),
        # A session idle this long ends (NIST SP 800-63B AAL2: 30 minutes); 0 = no limit.
        "TRACKER_SESSION_IDLE_MINUTES": int(os.environ.get("TRACKER_SESSION_IDLE_MINUTES",
                                                           "30")),
        "TRACKER_LOGIN_MAX_FAILURES": int(os.environ.get("TRACKER_LOGIN_MAX_FAILURES", "5")),
        "TRACKER_LOGIN_LOCK_MINUTES": int(os.environ.get("TRACKER_LOGIN_LOCK_MINUTES", "15")),
        # Admins log in with an authenticator app: "required" (the default; anything but
        # "optional" means required) or "optional" (tracker.scope.must_use_second_factor).
        "TRACKER_ADMIN_2FA": os.environ.get("TRACKER_ADMIN_2FA", "required").strip().lower(),
        # The login throttle (tracker.auth.throttle, docs/security.md "Login throttling").
        "TRACKER_LOGIN_USER_MAX_FAILURES": int(
            os.environ.get("TRACKER_LOGIN_USER_MAX_FAILURES", "50")),
        "TRACKER_LOGIN_USER_WINDOW_MINUTES": int(
            os.environ.get("TRACKER_LOGIN_USER_WINDOW_MINUTES", "60")),
        "TRACKER_LOGIN_ADDRESS_MAX_FAILURES": int(
            os.environ.get("TRACKER_LOGIN_ADDRESS_MAX_FAILURES", "100")),
        "TRACKER_DEVICE_DAYS": int(os.environ.get("TRACKER_DEVICE_DAYS", "90")),
        # How many reverse proxies stand in front of the app and append X-Forwarded-For;
        # 0: none, the client's address is the connection's.
        "TRACKER_TRUSTED_PROXIES": int(os.environ.get("TRACKER_TRUSTED_PROXIES", "0")),
        # Request rate limits (Flask-Limiter): tracker-db:// counts in the database, shared
        # by every worker and host (tracker.ratelimit); tracker-memory:// is per process.
        "RATELIMIT_ENABLED": _bool("TRACKER_RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": os.environ.get("TRACKER_RATELIMIT_STORAGE_URI",
                                                "tracker-db://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "TRACKER_LOGIN_RATE_LIMIT": os.environ.get("TRACKER_LOGIN_RATE_LIMIT", "60/minute"),
        "TRACKER_API_RATE_LIMIT": os.environ.get("TRACKER_API_RATE_LIMIT", "600/minute"),
        "TRACKER_SMTP_HOST": os.environ.get("TRACKER_SMTP_HOST", ""),
        "TRACKER_SMTP_PORT": int(os.environ.get("TRACKER_SMTP_PORT", "25")),
        "TRACKER_SMTP_USER": os.environ.get("TRACKER_SMTP_USER", ""),
        "TRACKER_SMTP_PASSWORD": os.environ.get("TRACKER_SMTP_PASSWORD", ""),
        "TRACKER_SMTP_STARTTLS": _bool("TRACKER_SMTP_STARTTLS", False),
        "TRACKER_SMTP_FROM": os.environ.get("TRACKER_SMTP_FROM", "tracker@localhost"),
        # The address users open Tracker at (e.g. https://tracker.quangninh.gov.vn): the
        # e-mails link to the task with it; without it they carry no link.
        "TRACKER_BASE_URL": os.environ.get("TRACKER_BASE_URL", ""),
        # E-mail right after the commit (a background thread); off: the scheduler's
        # outbox run sends them within a second or so.
        "TRACKER_MAIL_AT_ONCE": _bool("TRACKER_MAIL_AT_ONCE", True),
        "TRACKER_DIGEST_TIME": os.environ.get("TRACKER_DIGEST_TIME", "17:00"),
        # Webhooks (tracker.webhooks, docs/integration.md): an attempt's time limit, the
        # first retry's delay (doubled after each failure), the attempts before giving up,
        # how often the scheduler looks at the outbox; loopback addresses allowed (a
        # receiver on the Tracker host itself; tests).
        "TRACKER_WEBHOOK_TIMEOUT": _seconds("TRACKER_WEBHOOK_TIMEOUT", 10),
        "TRACKER_WEBHOOK_RETRY_SECONDS": _seconds("TRACKER_WEBHOOK_RETRY_SECONDS", 30),
        "TRACKER_WEBHOOK_MAX_ATTEMPTS": int(os.environ.get("TRACKER_WEBHOOK_MAX_ATTEMPTS",
                                                           "10")),
        "TRACKER_WEBHOOK_POLL_SECONDS": _seconds("TRACKER_WEBHOOK_POLL_SECONDS", 5),
        # How often the active scheduler folds the task counts' deltas in
        # (tracker.tasks.counts): what a dashboard adds up beyond the kept counts.
        "TRACKER_COUNTS_COMPACT_SECONDS": _seconds("TRACKER_COUNTS_COMPACT_SECONDS", 10),
        "TRACKER_WEBHOOK_ALLOW_LOOPBACK": _bool("TRACKER_WEBHOOK_ALLOW_LOOPBACK", False),
        # IPv6 unique local addresses (fc00::/7) allowed, as the private IPv4 ranges are.
        "TRACKER_WEBHOOK_ALLOW_ULA": _bool("TRACKER_WEBHOOK_ALLOW_ULA", False),
        # Delivered and given-up deliveries are purged by the worker after these days.
        "TRACKER_WEBHOOK_KEEP_DAYS": int(os.environ.get("TRACKER_WEBHOOK_KEEP_DAYS", "30")),
        # The calendar feed (tracker.feeds): the days ahead it shows.
        "TRACKER_FEED_DAYS": int(os.environ.get("TRACKER_FEED_DAYS", "60")),
        # Web Push (tracker.push.vapid): the VAPID private key (PEM), generated into
        # instance/vapid-private.pem when unset; the contact the push services see.
        "TRACKER_VAPID_PRIVATE_KEY": os.environ.get("TRACKER_VAPID_PRIVATE_KEY", ""),
        "TRACKER_VAPID_SUBJECT": os.environ.get("TRACKER_VAPID_SUBJECT", ""),
        "TRACKER_PUSH_AT_ONCE": _bool("TRACKER_PUSH_AT_ONCE", True),
        # How long a phone may show a page it kept for offline use (docs/offline.md).
        "TRACKER_OFFLINE_PAGE_DAYS": float(os.environ.get("TRACKER_OFFLINE_PAGE_DAYS", "7")),
        # The push services a subscription may point at (host names, "*." for a domain):
        # the server posts to them, so not to any address a client names.
        "TRACKER_PUSH_SERVICES": os.environ.get("TRACKER_PUSH_SERVICES", ",".join((
            "fcm.googleapis.com", "updates.push.services.mozilla.com",
            "*.push.services.mozilla.com", "*.notify.windows.com", "web.push.apple.com"))),
        "TRACKER_PDF_FONT": os.environ.get("TRACKER_PDF_FONT", ""),
        # The serif of the official PDF report (tracker.reports.fonts): Liberation Serif
        # (fonts-liberation2) by default.
        "TRACKER_REPORT_FONT": os.environ.get("TRACKER_REPORT_FONT", ""),
        "TRACKER_REMINDER_TIMES": os.environ.get("TRACKER_REMINDER_TIMES", "14:00,15:30"),
        # How many working days back the scheduler's catch-up reaches (gaps included).
        "TRACKER_CATCH_UP_DAYS": int(os.environ.get("TRACKER_CATCH_UP_DAYS", "31")),
        # How long the cutoff waits for writes stamped before it to commit before it
        # ends them (tracker.fence), and how long a due day may wait before the
        # health endpoint calls it late.
        "TRACKER_CUTOFF_WAIT_SECONDS": float(os.environ.get("TRACKER_CUTOFF_WAIT_SECONDS",
                                                            "30")),
        "TRACKER_CUTOFF_LATE_SECONDS": float(os.environ.get("TRACKER_CUTOFF_LATE_SECONDS",
                                                            "300")),
        # A write received by the server before a cutoff (or a midnight) but reached by
        # its worker only after it keeps the moment it was received, if the worker reaches
        # it within this many seconds; the cutoff waits as long before it closes the day
        # (tracker.fence, "received").
        "TRACKER_CUTOFF_GRACE_SECONDS": float(os.environ.get("TRACKER_CUTOFF_GRACE_SECONDS",
                                                             "5")),
        # One active scheduler among several hosts on PostgreSQL (tracker.cutoff.leader):
        # the leader's lease lasts this long unless renewed (every third of it); a standby
        # asks for it this often. A dead leader is replaced within their sum.
        "TRACKER_SCHEDULER_LEASE_SECONDS": float(
            os.environ.get("TRACKER_SCHEDULER_LEASE_SECONDS", "20")),
        "TRACKER_SCHEDULER_POLL_SECONDS": float(
            os.environ.get("TRACKER_SCHEDULER_POLL_SECONDS", "5")),
        # Where uploaded evidence files are kept (default instance/evidence), where
        # `tracker backup` writes its archives (default instance/backups), and the folder
        # of pg_dump/pg_restore if not /usr/lib/postgresql/N/bin or the PATH.
        "TRACKER_EVIDENCE_PATH": os.environ.get("TRACKER_EVIDENCE_PATH", ""),
        "TRACKER_BACKUP_DIR": os.environ.get("TRACKER_BACKUP_DIR", ""),
        "TRACKER_PG_BIN": os.environ.get("TRACKER_PG_BIN", ""),
        # What a task import accepts (tracker.tasks.import_limits.ImportLimits).
        "TRACKER_IMPORT_MAX_MB": _megabytes("TRACKER_IMPORT_MAX_MB", 2),
        "TRACKER_IMPORT_MAX_UNPACKED_MB": _megabytes("TRACKER_IMPORT_MAX_UNPACKED_MB", 30),
        "TRACKER_IMPORT_MAX_PART_MB": _megabytes("TRACKER_IMPORT_MAX_PART_MB", 15),
        "TRACKER_IMPORT_MAX_STRINGS_MB": _megabytes("TRACKER_IMPORT_MAX_STRINGS_MB", 8),
        **{name: int(os.environ.get(name, default)) for name, default in (
            ("TRACKER_IMPORT_MAX_RATIO", 100), ("TRACKER_IMPORT_MAX_PARTS", 100),
            ("TRACKER_IMPORT_MAX_STRINGS", 100_000), ("TRACKER_IMPORT_MAX_TASKS", 2000),
            ("TRACKER_IMPORT_MAX_ROWS", 50_000), ("TRACKER_IMPORT_MAX_COLUMNS", 100),
            ("TRACKER_IMPORT_MAX_CELLS", 300_000))},
        "TRACKER_SQLITE_BUSY_TIMEOUT_MS": int(
            os.environ.get("TRACKER_SQLITE_BUSY_TIMEOUT_MS", "10000")
        ),
        "TRACKER_SQLITE_SYNCHRONOUS": os.environ.get("TRACKER_SQLITE_SYNCHRONOUS", "FULL"),
    }
