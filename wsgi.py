"""WSGI entry point: the only module-level application (gunicorn "wsgi:app")."""

from matcher import create_app

app = create_app()
