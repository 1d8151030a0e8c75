"""gunicorn settings of the web processes (the Procfile's `web` passes `--config deploy/gunicorn.conf.py`).

A stop must take seconds, not gunicorn's 30: on SIGTERM each worker stops
accepting, lets the requests under way finish (at most `--graceful-timeout`,
3 s in the Procfile) and, at once, closes every Socket.IO connection. A held
websocket or long poll would otherwise keep the worker until that timeout and
then be cut anyway; closed first, the consoles reconnect straight away, through
nginx, to a web process that is staying. Once the worker has finished, it
leaves at once (see worker_exit).
"""

import logging
import os
import signal
import sys

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


def worker_exit(server, worker):
    """When the worker has finished its requests: flush the logs and leave without the interpreter's teardown.

    The teardown waits on gevent's resolver thread pool for over a second (measured: the web process stopped
    in 2.6-3.4 s without this, 1.3 s with it), and there is nothing left to save: the requests are answered,
    every transaction committed or rolled back, and the Socket.IO clients told to reconnect.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
