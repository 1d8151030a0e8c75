"""The SMTP protocol side of the listener: aiosmtpd, reading DATA in blocks, optionally sharing its port.

aiosmtpd reads a message's DATA a line at a time, an await per line: a 10 MB
attachment is 180,000 lines of base64 and most of a second of one core. Here
DATA is read in blocks up to each ".\r\n" (or as much as the stream has), with
aiosmtpd's size limit, answers and transparency rules (RFC 5321 4.5.2), and
its 1,001-octet line limit counted between line feeds (aiosmtpd counts between
CRLFs, so a body of bare LFs is taken here where aiosmtpd refused it); nothing
after the end of the data is read, so pipelined commands stay in the stream.
"""

import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, syntax

log = logging.getLogger(__name__)

# The end of the data: a line holding a lone dot.
END = b".\r\n"


class BlockDataSMTP(SMTP):
    """aiosmtpd's SMTP session, with DATA read in blocks rather than lines."""

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's name
        """Take the message's data, then hand it to the handler as aiosmtpd does (its checks and answers)."""
        if self._decode_data:  # only raw bytes are read in blocks
            return await super().smtp_DATA(arg)
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            return await self.push("503 Error: need RCPT command")
        if arg:
            return await self.push("501 Syntax: DATA")
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content, refusal = await self._read_data()
        except asyncio.CancelledError:  # the connection went away during DATA
            log.info("Connection lost during DATA")
            self._writer.close()
            raise
        if refusal is not None:
            self._set_post_data_state()
            return await self.push(refusal)
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA") if "DATA" in self._handle_hooks else MISSING
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    async def _read_data(self) -> tuple[bytes, str | None]:
        """Read up to the lone dot; (content with dot-stuffing undone, None) or (b"", the refusal)."""
        data, size, line, tail, refusal = bytearray(), 0, 0, b"", None
        while True:
            try:
                chunk = await self._reader.readuntil(END)
            except asyncio.LimitOverrunError as error:
                # No ".\r\n" within the stream's limit: take what it holds (it keeps back a possible start of one).
                chunk = await self._reader.readexactly(error.consumed)
            size += len(chunk)
            tail = (tail + chunk)[-5:]
            # The data ends at a lone dot: one the stream starts with, or one after a line's CRLF.
            ends = chunk.endswith(END) and (size == len(END) or tail[:2] == b"\r\n")
            lines = chunk.split(b"\n")
            # A line's length with its CRLF, as aiosmtpd counts it; the first continues the last chunk's.
            longest = max(line + len(lines[0]), *map(len, lines[1:-1] or [b""])) + 1 if len(lines) > 1 else 0
            line = len(lines[-1]) if len(lines) > 1 else line + len(chunk)
            if refusal is None and (longest > self.line_length_limit or line > self.line_length_limit):
                refusal = "500 Line too long (see RFC5321 4.5.3.1.6)"
            elif refusal is None and self.data_size_limit and size - (len(END) if ends else 0) > self.data_size_limit:
                refusal = "552 Error: Too much mail data"
            if refusal is None:
                data += chunk
            else:
                data.clear()  # drained to the end, never kept
            if ends:
                break
        if refusal is not None:
            return b"", refusal
        del data[-len(END):]
        # Transparency: a line's leading dot was added by the sender and goes (RFC 5321 4.5.2).
        return bytes(b"\r\n" + data).replace(b"\r\n.", b"\r\n")[2:], None


class Listener(Controller):
    """aiosmtpd's threaded controller with block-reading sessions; with `shared_port`, listening with
    SO_REUSEPORT, so several `flask smtp` processes share one port and the kernel spreads the senders'
    connections across them (one process is bound to one core)."""

    def __init__(self, handler, *, shared_port: bool = False, **kwargs):
        super().__init__(handler, **kwargs)
        self.shared_port = shared_port

    def factory(self) -> SMTP:
        """A session reading DATA in blocks."""
        return BlockDataSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port,
                                       ssl=self.ssl_context, reuse_port=self.shared_port)

    def _trigger_server(self):
        # aiosmtpd connects to its own port to see its session factory run; with the port shared that
        # connection may reach another process, so the factory is run once on this server's loop instead.
        self.loop.call_soon_threadsafe(self._factory_invoker)
