"""gunicorn settings for Sanhu in production.

    gunicorn -c deploy/gunicorn.conf.py web.wsgi:app

Pre-forking sync workers behind nginx (``deploy/nginx-sanhu.conf`` buffers slow
clients, so a sync worker is never held by one).  Each worker builds its own
app and connection pool (no ``preload_app``), so ``kill -HUP <master>``
(``systemctl reload sanhu-web``) starts workers on the new code and lets the
old ones finish their requests within ``graceful_timeout``.

Overridable from the environment: ``SANHU_BIND`` (default 127.0.0.1:8000),
``SANHU_WEB_WORKERS`` (default 2 × cores + 1, at most 8: every worker keeps its
own database connections) and ``SANHU_WEB_TIMEOUT`` (seconds; a large Excel
export takes a while).  Logs are JSON lines with the request id
(``SANHU_LOG_JSON=1`` unless set otherwise), access log included.
"""

import multiprocessing
import os

os.environ.setdefault("SANHU_LOG_JSON", "1")
JSON_LOGS = os.environ["SANHU_LOG_JSON"] == "1"

bind = os.environ.get("SANHU_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SANHU_WEB_WORKERS")
              or min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "sync"
timeout = int(os.environ.get("SANHU_WEB_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# recycle workers now and then (a slow leak never grows unbounded); jitter keeps
# them from restarting all at once
max_requests = 2000
max_requests_jitter = 200
preload_app = False
# gunicorn 24+ opens a control socket in $HOME; systemctl reload (HUP) is all we use
control_socket_disable = True
# nginx on the same machine sets X-Forwarded-*; SANHU_PROXY_HOPS=1 makes the app trust them
forwarded_allow_ips = "127.0.0.1,::1"

accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = ('%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" '
                     'request_id=%({x-request-id}o)s')

if JSON_LOGS:
    _json_handler = {"class": "logging.StreamHandler", "formatter": "json",
                     "stream": "ext://sys.stderr"}
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "web.core.logs.JsonFormatter"}},
        "handlers": {"json": _json_handler},
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
            # the readiness check reads the revision on every call: not worth a line each
            "alembic": {"level": "WARNING"},
        },
    }
