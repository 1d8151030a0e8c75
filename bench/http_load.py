"""A small closed-loop HTTP load generator: keep-alive sockets, pre-built requests.

Requests are rendered to bytes before the clock starts (bodies signed, ids
unique), so the generator spends its time on sockets, not on JSON or HMAC.
Several processes with a few connections each keep a one-process server busy.
"""

import multiprocessing
import os
import socket
import time

# Connections per generator process, the same for every phase of a run: 2 x 12
# concurrent senders, as a webhook endpoint fed by many sources sees.
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "12"))


def build_request(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    """Render one HTTP/1.1 keep-alive request to bytes."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive",
             f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def read_response(conn: socket.socket, buffer: bytearray) -> int:
    """Read one response off a keep-alive connection; return its status code."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    header_length = len(head) + 4
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(buffer) < header_length + length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buffer += chunk
    status = int(head.split(b" ", 2)[1])
    del buffer[:header_length + length]
    return status


def _connection(port: int, requests: list[bytes], deadline: float, results: list) -> None:
    conn = socket.create_connection(("127.0.0.1", port))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = bytearray()
    statuses: dict[int, int] = {}
    sent = 0
    for request in requests:
        if time.monotonic() >= deadline:
            break
        conn.sendall(request)
        status = read_response(conn, buffer)
        statuses[status] = statuses.get(status, 0) + 1
        sent += 1
    conn.close()
    results.append((sent, statuses))


def _process(port: int, shards: list[list[bytes]], seconds: float, queue) -> None:
    import threading

    deadline = time.monotonic() + seconds
    results: list = []
    threads = [threading.Thread(target=_connection, args=(port, shard, deadline, results)) for shard in shards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def run_load(port: int, requests: list[bytes], seconds: float, processes: int = 2,
             connections: int = CONNECTIONS) -> dict:
    """Send requests (each at most once) for up to `seconds`; return counts and rate.

    Args:
        port: the server's port on 127.0.0.1.
        requests: pre-rendered requests; they are dealt round-robin to connections.
        seconds: how long to run (stops earlier if the requests run out).
        processes: generator processes.
        connections: connections per process.

    Returns:
        {"requests", "seconds", "per_second", "statuses"}
    """
    total = processes * connections
    shards = [requests[index::total] for index in range(total)]
    queue = multiprocessing.Queue()
    started = time.monotonic()
    workers = [multiprocessing.Process(target=_process, args=(port, shards[p::processes], seconds, queue))
               for p in range(processes)]
    for worker in workers:
        worker.start()
    results = [item for _ in workers for item in queue.get()]
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    statuses: dict[int, int] = {}
    sent = 0
    for count, codes in results:
        sent += count
        for code, number in codes.items():
            statuses[code] = statuses.get(code, 0) + number
    return {"requests": sent, "seconds": elapsed, "per_second": sent / elapsed, "statuses": statuses}
