"""Flask extensions, created unbound and attached in ``init_app``."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from ledger.instance.bootstrap import Sanhu

login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()


def sanhu() -> Sanhu:
    """The ledger wired for this app."""
    return current_app.extensions["sanhu"]


def init_app(app: Flask) -> None:
    from web.core import upload_limits

    upload_limits.init_app(app)  # ahead of the CSRF check, which reads the whole form
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    bootstrap.init_app(app)
