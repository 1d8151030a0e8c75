"""Light Socket.IO consoles for the live benchmark: many websocket connections in one thread.

python-socketio's client starts a thread for every event it receives; with 20
consoles at a few hundred events a second that took most of a core and its
own queueing showed up as latency. A browser tab does no such thing, so these
consoles speak the engine.io 4 / Socket.IO 5 protocol over raw websockets,
all on one selector in their own process: each one completes the handshake,
authenticates, answers pings, and decodes every frame and its JSON as a
browser would, recording when each `conversation.created` arrived.
"""

import base64
import json
import os
import selectors
import socket
import time
from urllib.parse import urlsplit

OPCODE_TEXT, OPCODE_CLOSE, OPCODE_PING = 0x1, 0x8, 0x9


def frame(text: str, opcode: int = OPCODE_TEXT) -> bytes:
    """A masked client-to-server websocket frame (clients must mask, RFC 6455)."""
    data = text.encode()
    mask = os.urandom(4)
    length = len(data)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    elif length < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))
    return header + mask + masked


def parse_frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Take every complete server frame off the front of the buffer; leave a partial one."""
    frames = []
    while len(buffer) >= 2:
        opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                break
            length, start = int.from_bytes(buffer[2:4], "big"), 4
        elif length == 127:
            if len(buffer) < 10:
                break
            length, start = int.from_bytes(buffer[2:10], "big"), 10
        if len(buffer) < start + length:
            break
        frames.append((opcode, bytes(buffer[start:start + length])))
        del buffer[:start + length]
    return frames


class Console:
    """One console's connection: handshake, Socket.IO connect with a token, then events."""

    def __init__(self, number: int, url: str, token: str):
        parts = urlsplit(url)
        self.number = number
        self.token = token
        self.connected = False
        self.buffer = bytearray()
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("server closed the connection during the websocket handshake")
            response += chunk
        head, _, rest = response.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"websocket handshake refused: {head.splitlines()[0]!r}")
        self.buffer.extend(rest)
        self.sock.setblocking(False)

    def read(self, on_event) -> bool:
        """Read what the socket has and handle every complete message; False once it closed."""
        try:
            chunk = self.sock.recv(1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        self.buffer.extend(chunk)
        return self.handle(on_event)

    def handle(self, on_event) -> bool:
        """Handle the complete frames in the buffer; False if the server closed."""
        for opcode, payload in parse_frames(self.buffer):
            if opcode == OPCODE_CLOSE:
                return False
            if opcode == OPCODE_PING:
                self.send(payload.decode(), 0xA)
                continue
            message = payload.decode()
            if message == "2":  # engine.io ping: answer or be dropped
                self.send("3")
            elif message.startswith("0"):  # engine.io open: connect to the default namespace
                self.send("40" + json.dumps({"token": self.token}))
            elif message.startswith("40"):
                self.connected = True
            elif message.startswith("44"):
                raise ConnectionError(f"console {self.number} refused: {message[2:]}")
            elif message.startswith("42"):
                name, *args = json.loads(message[2:])
                on_event(self.number, name, args[0] if args else None)
        return True

    def send(self, text: str, opcode: int = OPCODE_TEXT) -> None:
        """Send one message (small control answers; the socket takes them whole)."""
        self.sock.setblocking(True)
        self.sock.sendall(frame(text, opcode))
        self.sock.setblocking(False)


def run_consoles(url: str, token: str, count: int, pipe, key: str = "id") -> None:
    """Connect `count` consoles, say "ready" on the pipe, then record arrivals until told to report.

    The parent sends ("expect", ids, seconds): the consoles keep reading until
    every console has every id, or the seconds pass, then send back
    {id: [arrival time per console that got it]} and wait for the next order,
    or "stop". A conversation is known by its `key` field (its id, or say its subject when the sender
    cannot know the id).
    """
    selector = selectors.DefaultSelector()
    consoles = [Console(number, url, token) for number in range(count)]
    arrivals: dict[object, list[float]] = {}

    def on_event(number, name, data):
        if name == "conversation.created":
            now = time.time()
            for conversation in data["conversations"]:
                arrivals.setdefault(conversation[key], []).append(now)

    for console in consoles:
        selector.register(console.sock, selectors.EVENT_READ, console)
        console.handle(on_event)
    deadline = time.monotonic() + 30
    while not all(console.connected for console in consoles):
        if time.monotonic() > deadline:
            raise TimeoutError("consoles did not all connect")
        pump(selector, on_event, 0.1)
    pipe.send("ready")
    while True:
        try:
            while not pipe.poll():
                pump(selector, on_event, 0.05)
        except ConnectionError:
            return  # the server went away between phases (a benchmark stopping it with the consoles connected)
        order = pipe.recv()
        if order == "stop":
            break
        _, expected, seconds = order
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not all(len(arrivals.get(i, ())) >= count for i in expected):
            pump(selector, on_event, 0.05)
        pipe.send({i: arrivals.get(i, []) for i in expected})
        arrivals.clear()
    for console in consoles:
        console.sock.close()


def pump(selector, on_event, timeout: float) -> None:
    """Handle whatever arrives within the timeout."""
    for key, _ in selector.select(timeout):
        if not key.data.read(on_event):
            raise ConnectionError(f"console {key.data.number} was disconnected")
