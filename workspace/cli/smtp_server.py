"""The SMTP protocol side of the listener: aiosmtpd, sharing its port, reading DATA in blocks.

aiosmtpd reads a message's DATA a line at a time, an await per line: a 10 MB
attachment is 180,000 lines of base64 and most of a second of one core. Here
DATA is read in blocks up to each ".\r\n" (or as much as the stream has), with
the same limits, answers and transparency rules (RFC 5321 4.5.2) as aiosmtpd's
own loop; nothing after the end of the data is read, so pipelined commands
stay in the stream.
"""

import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP

log = logging.getLogger(__name__)

# Connections aiosmtpd's start-up check may open before one reaches this process (the kernel spreads them
# across the processes sharing the port; fifty misses in a row are as good as impossible).
TRIGGER_ATTEMPTS = 50
# The end of the data: a line holding a lone dot.
END = b".\r\n"


class BlockDataSMTP(SMTP):
    """aiosmtpd's SMTP session, with DATA read in blocks rather than lines."""

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
            lines = chunk.split(b"\n")
            # A line's length with its CRLF, as aiosmtpd counts it; the first continues the last chunk's.
            longest = max(line + len(lines[0]), *map(len, lines[1:-1] or [b""])) + 1 if len(lines) > 1 else 0
            line = len(lines[-1]) if len(lines) > 1 else line + len(chunk)
            if refusal is None and (longest > self.line_length_limit or line > self.line_length_limit):
                refusal = "500 Line too long (see RFC5321 4.5.3.1.6)"
            elif refusal is None and self.data_size_limit and size > self.data_size_limit:
                refusal = "552 Error: Too much mail data"
            if refusal is None:
                data += chunk
            else:
                data.clear()  # drained to the end, never kept
            # The data ends at a lone dot: one the stream starts with, or one after a line's CRLF.
            if chunk.endswith(END) and (size == len(END) or tail[:2] == b"\r\n"):
                break
        if refusal is not None:
            return b"", refusal
        del data[-len(END):]
        # Transparency: a line's leading dot was added by the sender and goes (RFC 5321 4.5.2).
        return bytes(b"\r\n" + data).replace(b"\r\n.", b"\r\n")[2:], None


class SharedPortController(Controller):
    """aiosmtpd's threaded controller, listening with SO_REUSEPORT: several `flask smtp` processes share one
    port and the kernel spreads the senders' connections across them (one process is bound to one core)."""

    def factory(self) -> SMTP:
        """A session reading DATA in blocks."""
        return BlockDataSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port,
                                       ssl=self.ssl_context, reuse_port=True)

    def _trigger_server(self):
        # aiosmtpd opens one connection to its own port to see its protocol factory run; with the port
        # shared, that connection may reach another process, so try again until one reaches this one.
        for _ in range(TRIGGER_ATTEMPTS):
            super()._trigger_server()
            if self._factory_invoked.is_set():
                return
