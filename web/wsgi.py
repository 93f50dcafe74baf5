"""The WSGI entry for production servers: ``gunicorn -c deploy/gunicorn.conf.py web.wsgi:app``.

Settings come from the environment (``SANHU_*``, see the README).  Each worker
imports this module and builds its own app (no ``preload_app``), so engines and
connection pools are never shared across a fork, and ``kill -HUP`` on the
gunicorn master reloads new code gracefully.
"""

from web import create_app

app = create_app()
