"""The listener's DATA reader over real SMTP sessions: exactly the bytes sent, dot-stuffing undone, the limits
answered as aiosmtpd answers them, and nothing after the end of the data taken from the stream."""

import os
import smtplib
import socket
import time

import pytest

from devstack.localredis import free_port
from workspace.cli.smtp_server import Listener

LIMIT = 1024 * 1024


class Keeper:
    """A handler keeping every message's raw content."""

    def __init__(self):
        self.contents: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.contents.append(envelope.original_content)
        return "250 OK kept"


@pytest.fixture
def server():
    """A listener on a free port whose handler keeps what it gets; yields (port, handler)."""
    keeper = Keeper()
    controller = Listener(keeper, hostname="127.0.0.1", port=free_port(), data_size_limit=LIMIT, decode_data=False)
    controller.start()
    yield controller.port, keeper
    controller.stop()


def send(port: int, body: bytes) -> tuple[int, bytes]:
    """One message over smtplib (which dot-stuffs and ends the data); the DATA answer."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        client.mail("a@customer.example")
        client.rcpt("support@example.test")
        return client.data(body)


@pytest.mark.parametrize("body", [
    b"Subject: hi\r\n\r\nhello\r\n",
    b"Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nend.\r\nnot the end .\r\n",
    b"Subject: empty first line\r\n\r\n\r\n",
    b"x\r\n",
])
def test_the_content_is_exactly_what_was_sent(server, body):
    port, keeper = server
    assert send(port, body) == (250, b"OK kept")
    assert keeper.contents == [body]


def test_a_large_message_read_in_blocks_is_whole(server):
    """Half a megabyte of base64-like lines, none ending in a dot: read through the stream's limit, whole."""
    port, keeper = server
    lines = [os.urandom(57).hex().encode()[:76] + b"\r\n" for _ in range(7000)]
    body = b"Subject: big\r\n\r\n" + b"".join(lines)
    assert send(port, body)[0] == 250
    assert keeper.contents == [body]


def test_over_the_size_limit_is_552_and_the_session_goes_on(server):
    port, keeper = server
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        client.mail("a@customer.example")
        client.rcpt("support@example.test")
        assert client.data(b"Subject: huge\r\n\r\n" + (b"c" * 70 + b"\r\n") * 16_000)[0] == 552  # 1.15 MB
        assert client.noop()[0] == 250
    assert keeper.contents == []
    assert send(port, b"Subject: after\r\n\r\nok\r\n")[0] == 250


def test_a_message_of_exactly_the_size_limit_is_taken(server):
    """The limit counts the message, not the lone dot that ends it (aiosmtpd's count, the SIZE advertised)."""
    port, keeper = server
    head = b"Subject: exact\r\n\r\n"
    line = b"d" * 98 + b"\r\n"
    body = head + line * ((LIMIT - len(head)) // len(line))
    body += b"e" * (LIMIT - len(body) - 2) + b"\r\n"
    assert len(body) == LIMIT
    assert send(port, body)[0] == 250
    assert keeper.contents == [body]
    assert send(port, body + b"f\r\n")[0] == 552


def test_the_end_of_the_data_split_across_packets_is_found(server):
    """The lone dot's CRLF, dot and CRLF arriving in separate packets still end the data, and only there;
    so does a lone dot right after DATA (an empty message)."""
    port, keeper = server
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        sock.sendall(b"HELO client.example\r\n")
        assert reader.readline().startswith(b"250")
        sock.sendall(b"MAIL FROM:<a@customer.example>\r\nRCPT TO:<support@example.test>\r\nDATA\r\n")
        assert [reader.readline()[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        for piece in (b"Subject: split\r\n\r\nend.", b"\r", b"\n", b".", b"\r", b"\n"):
            sock.sendall(piece)
            time.sleep(0.05)  # each its own packet
        assert reader.readline().startswith(b"250 OK kept")
        # A message with no data at all: the stream after DATA starts with the lone dot.
        sock.sendall(b"MAIL FROM:<a@customer.example>\r\nRCPT TO:<support@example.test>\r\nDATA\r\n")
        assert [reader.readline()[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        sock.sendall(b".\r\n")
        assert reader.readline().startswith(b"250 OK kept")
    assert keeper.contents == [b"Subject: split\r\n\r\nend.\r\n", b""]


def test_a_line_over_1000_octets_is_refused_with_500(server):
    port, keeper = server
    assert send(port, b"Subject: long\r\n\r\n" + b"x" * 1200 + b"\r\nshort\r\n")[0] == 500
    assert keeper.contents == []


def test_commands_pipelined_after_the_data_stay_in_the_stream(server):
    """The end of the data, QUIT and nothing else in one packet: the message is taken and QUIT answered."""
    port, keeper = server
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        sock.sendall(b"EHLO client.example\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        sock.sendall(b"MAIL FROM:<a@customer.example>\r\nRCPT TO:<support@example.test>\r\nDATA\r\n")
        assert [reader.readline()[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        sock.sendall(b"Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        assert reader.readline().startswith(b"250 OK kept")
        assert reader.readline().startswith(b"221")
    assert keeper.contents == [b"Subject: pipelined\r\n\r\nbody\r\n"]
