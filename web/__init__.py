"""The Sanhu web application (Flask).

``create_app(settings=None, sanhu=None)`` builds the app: each extension and
blueprint registers itself through its own ``init_app``/``bp``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile

from flask import Flask

from ledger.core.settings import Settings
from ledger.instance.bootstrap import Sanhu, bootstrap


def _secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept beside the database."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.secret_key_file
    if not path.exists():
        # several workers may start at once: write a whole file aside, then link it into
        # place, which fails if another won; everyone then reads the winner's key
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".secret_key.") as tmp:
            tmp.write(secrets.token_hex(32))
            tmp.flush()
            os.chmod(tmp.name, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(tmp.name, path)
    return path.read_text(encoding="ascii").strip()


def create_app(settings: Settings | None = None, sanhu: Sanhu | None = None,
               config: dict | None = None) -> Flask:
    """Build the Flask app for ``settings`` (default: from the environment)."""
    from web import admin, api
    from web.auth import sessions as auth_sessions
    from web.auth import views as auth
    from web.core import (
        dates,
        errors,
        extensions,
        file_labels,
        i18n,
        inputs,
        layout,
        logs,
        security,
    )
    from web.dashboard import views as dashboard
    from web.home import views as home
    from web.inbox import views as inbox
    from web.items import ledger_import as items_import
    from web.items import views as items
    from web.ledger_list import views as listing
    from web.observation_exports import views as observation_exports
    from web.observations import views as observations
    from web.ops import views as ops
    from web.results import views as results
    from web.supervision import views as supervision
    from web.survey import views as survey

    sanhu = sanhu or bootstrap(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(sanhu.settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=sanhu.settings.secure_cookies,
        REMEMBER_COOKIE_DURATION=sanhu.settings.remember_days * 24 * 3600,
        REMEMBER_COOKIE_SECURE=sanhu.settings.secure_cookies,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=sanhu.settings.evidence_max_bytes * 5,
        BOOTSTRAP_SERVE_LOCAL=True,
    )
    app.config.update(config or {})
    if sanhu.settings.proxy_hops:
        # behind nginx & co: the client address (login throttle) and scheme come from
        # the proxies' headers, trusting exactly as many hops as configured
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = sanhu.settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.extensions["sanhu"] = sanhu
    logs.init_app(app, sanhu.settings.log_json)  # first: every later hook logs with the id
    inputs.init_app(app)
    extensions.init_app(app)
    auth_sessions.init_app(app)  # before anything loads the signed-in user
    i18n.init_app(app)
    layout.init_app(app)
    file_labels.init_app(app)
    dates.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(listing.bp)
    app.register_blueprint(items.bp)
    app.register_blueprint(items_import.bp)
    app.register_blueprint(observations.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(supervision.bp)
    app.register_blueprint(observation_exports.bp)
    app.register_blueprint(survey.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(ops.bp)
    inbox.init_app(app)
    app.register_blueprint(inbox.bp)
    api.init_app(app)  # last: it wraps the error handlers above for /api/
    return app
