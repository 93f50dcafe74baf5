"""One settings object, read from the environment with safe defaults.

Web, scheduler and command line all build their parts from a ``Settings``;
tests pass their own.  Nothing here touches the database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULT_INSTANCE = Path("instance")


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return int(raw) if raw not in (None, "") else default


def _ints(env: dict[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    return tuple(int(part) for part in raw.replace(" ", "").split(",") if part)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults for the single-machine install."""

    database_url: str = f"sqlite:///{(DEFAULT_INSTANCE / 'sanhu.sqlite').resolve()}"
    evidence_dir: Path = field(default_factory=lambda: (DEFAULT_INSTANCE / "evidence").resolve())
    evidence_max_bytes: int = 20 * 1024 * 1024
    #: largest accepted unit or user import file (.xlsx or .csv)
    import_max_bytes: int = 2 * 1024 * 1024
    #: largest accepted ledger sheet (导入台账; tens of thousands of rows)
    ledger_import_max_bytes: int = 32 * 1024 * 1024
    timezone: str = "Asia/Shanghai"
    secret_key: str = ""
    #: days before the deadline at which the traffic light turns yellow
    warning_days: int = 3
    #: how long after 销号 an item may still be reopened (回头看)
    follow_up_days: int = 365
    #: log SQL statements
    echo_sql: bool = False
    #: mark cookies Secure (set SANHU_SECURE_COOKIES=0 only for plain-HTTP installs)
    secure_cookies: bool = False
    #: reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust (0: none)
    proxy_hops: int = 0
    #: how long "remember me on this device" lasts, in days
    remember_days: int = 14
    #: a session unused this long ends (a remembered device then starts a new one)
    session_idle_minutes: int = 120
    #: a session ends this long after sign-in however busy it is
    session_max_hours: int = 12
    #: how long a browser that signed in stays "known" and exempt from others' lock-outs
    known_device_days: int = 90
    #: failed sign-ins (per username; per client address four times as many) before a lock
    login_max_failures: int = 5
    #: the window in which failed sign-ins are counted, in minutes
    login_window_minutes: int = 15
    #: how long a username or client address stays locked, in minutes
    login_lock_minutes: int = 15
    #: reminder points in working days before the deadline (0 = on the day)
    reminder_offsets: tuple[int, ...] = (5, 1, 0)
    #: once overdue, remind again every this many working days
    overdue_every: int = 3
    #: working days overdue after which the supervisors are notified (督办 board)
    board_threshold_days: int = 10
    #: outgoing mail (empty host: no e-mail channel); tls is "starttls", "ssl" or "none"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "sanhu@localhost"
    smtp_tls: str = "none"
    #: group robot webhook (WeCom or DingTalk); empty: no webhook channel
    webhook_url: str = ""
    #: requests one API token (or one address without a token) may make per minute
    api_rate_per_minute: int = 600
    #: where the API's rate counts live: "memory://" (per process) or e.g. "redis://host"
    api_rate_storage: str = "memory://"
    #: let the webhook post to loopback and link-local addresses (an intranet robot here)
    webhook_allow_internal: bool = False
    #: how late a missed scheduled run may still run once (seconds)
    scheduler_grace_seconds: int = 6 * 3600
    #: write logs as one JSON object per line (on by default under deploy/gunicorn.conf.py)
    log_json: bool = False
    #: how often a running job refreshes its heartbeat; three missed beats: it died
    scheduler_heartbeat_seconds: int = 10
    #: the most one e-mail or webhook send may take, all included (seconds)
    delivery_deadline_seconds: int = 20
    #: sends running at once per channel in one delivery pass
    delivery_workers: int = 4
    #: how long an SQLite writer waits for another's lock before "database is locked" (ms)
    sqlite_busy_timeout_ms: int = 10_000

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def secret_key_file(self) -> Path:
        """Where the generated secret key is kept when ``SANHU_SECRET_KEY`` is unset."""
        return Path(self.evidence_dir).parent / "secret_key"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: object) -> Settings:
        """A copy with some values changed (handy in tests)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read ``SANHU_*`` variables; anything unset keeps its safe default."""
        env = dict(os.environ if env is None else env)
        base = cls()
        instance = Path(env.get("SANHU_INSTANCE_DIR", str(DEFAULT_INSTANCE))).resolve()
        return cls(
            database_url=env.get("SANHU_DATABASE_URL")
            or f"sqlite:///{instance / 'sanhu.sqlite'}",
            evidence_dir=Path(env.get("SANHU_EVIDENCE_DIR") or instance / "evidence").resolve(),
            evidence_max_bytes=_int(env, "SANHU_EVIDENCE_MAX_BYTES", base.evidence_max_bytes),
            import_max_bytes=_int(env, "SANHU_IMPORT_MAX_BYTES", base.import_max_bytes),
            ledger_import_max_bytes=_int(env, "SANHU_LEDGER_IMPORT_MAX_BYTES",
                                         base.ledger_import_max_bytes),
            timezone=env.get("SANHU_TIMEZONE", base.timezone),
            secret_key=env.get("SANHU_SECRET_KEY", ""),
            warning_days=_int(env, "SANHU_WARNING_DAYS", base.warning_days),
            follow_up_days=_int(env, "SANHU_FOLLOW_UP_DAYS", base.follow_up_days),
            echo_sql=env.get("SANHU_ECHO_SQL", "") == "1",
            secure_cookies=env.get("SANHU_SECURE_COOKIES", "0") == "1",
            proxy_hops=_int(env, "SANHU_PROXY_HOPS", base.proxy_hops),
            remember_days=_int(env, "SANHU_REMEMBER_DAYS", base.remember_days),
            session_idle_minutes=_int(env, "SANHU_SESSION_IDLE_MINUTES",
                                      base.session_idle_minutes),
            session_max_hours=_int(env, "SANHU_SESSION_MAX_HOURS", base.session_max_hours),
            known_device_days=_int(env, "SANHU_KNOWN_DEVICE_DAYS", base.known_device_days),
            login_max_failures=_int(env, "SANHU_LOGIN_MAX_FAILURES", base.login_max_failures),
            login_window_minutes=_int(env, "SANHU_LOGIN_WINDOW_MINUTES",
                                      base.login_window_minutes),
            login_lock_minutes=_int(env, "SANHU_LOGIN_LOCK_MINUTES", base.login_lock_minutes),
            reminder_offsets=_ints(env, "SANHU_REMINDER_OFFSETS", base.reminder_offsets),
            overdue_every=_int(env, "SANHU_OVERDUE_EVERY", base.overdue_every),
            board_threshold_days=_int(env, "SANHU_BOARD_THRESHOLD_DAYS",
                                      base.board_threshold_days),
            smtp_host=env.get("SANHU_SMTP_HOST", base.smtp_host),
            smtp_port=_int(env, "SANHU_SMTP_PORT", base.smtp_port),
            smtp_user=env.get("SANHU_SMTP_USER", base.smtp_user),
            smtp_password=env.get("SANHU_SMTP_PASSWORD", base.smtp_password),
            smtp_from=env.get("SANHU_SMTP_FROM") or base.smtp_from,
            smtp_tls=env.get("SANHU_SMTP_TLS") or base.smtp_tls,
            webhook_url=env.get("SANHU_WEBHOOK_URL", base.webhook_url),
            api_rate_per_minute=max(1, _int(env, "SANHU_API_RATE_PER_MINUTE",
                                            base.api_rate_per_minute)),
            api_rate_storage=env.get("SANHU_API_RATE_STORAGE") or base.api_rate_storage,
            webhook_allow_internal=env.get("SANHU_WEBHOOK_ALLOW_INTERNAL", "0") == "1",
            scheduler_grace_seconds=_int(env, "SANHU_SCHEDULER_GRACE_SECONDS",
                                         base.scheduler_grace_seconds),
            log_json=env.get("SANHU_LOG_JSON", "0") == "1",
            scheduler_heartbeat_seconds=_int(env, "SANHU_SCHEDULER_HEARTBEAT_SECONDS",
                                             base.scheduler_heartbeat_seconds),
            delivery_deadline_seconds=max(1, _int(env, "SANHU_DELIVERY_DEADLINE_SECONDS",
                                                  base.delivery_deadline_seconds)),
            delivery_workers=max(1, _int(env, "SANHU_DELIVERY_WORKERS", base.delivery_workers)),
            sqlite_busy_timeout_ms=_int(env, "SANHU_SQLITE_BUSY_TIMEOUT_MS",
                                        base.sqlite_busy_timeout_ms),
        )
