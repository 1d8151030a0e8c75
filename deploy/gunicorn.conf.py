"""gunicorn settings of the web processes (the Procfile's `web` passes `--config deploy/gunicorn.conf.py`).

A stop must take seconds, not gunicorn's 30: on SIGTERM each worker stops
accepting, lets the requests under way finish (at most `--graceful-timeout`,
3 s in the Procfile) and, at once, closes every Socket.IO connection. A held
websocket or long poll would otherwise keep the worker until that timeout and
then be cut anyway; closed first, the consoles reconnect straight away, through
nginx, to a web process that is staying.
"""

import signal

import gevent


def post_worker_init(worker):
    """Once the worker has loaded the app: on SIGTERM, disconnect its Socket.IO clients, then stop as usual."""
    socketio = getattr(worker.wsgi, "extensions", {}).get("socketio")
    if socketio is None or socketio.server is None:
        return
    stop = worker.handle_exit

    def handle_exit(signum, frame):
        # Out of the signal handler: disconnecting writes to sockets and runs the app's disconnect handlers.
        gevent.spawn(socketio.server.eio.disconnect)
        stop(signum, frame)

    signal.signal(signal.SIGTERM, handle_exit)
