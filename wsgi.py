"""The WSGI entry point gunicorn serves: `app` (Socket.IO runs inside it)."""

from workspace import create_app
from workspace.extensions import socketio  # noqa: F401  (gunicorn imports it from here)

app = create_app()
