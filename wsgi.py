"""The WSGI entry point gunicorn serves: `app` (Socket.IO runs inside it); every other process loads it too."""

import gc

from workspace import create_app
from workspace.extensions import socketio  # noqa: F401  (gunicorn imports it from here)

app = create_app()

# The app's start-up leaves about 200,000 objects that live as long as the process. Every full collection
# walked them all, about 100 ms with the web process's event loop held (the periodic stall of every
# process, whatever its requests); frozen, the collector leaves them alone.
gc.collect()
gc.freeze()
