"""An incremental Server-Sent Events decoder that follows the WHATWG event-stream rules.

Network reads cut the stream anywhere: in the middle of a line, between ``\\r`` and ``\\n``, inside a
UTF-8 sequence. The decoder keeps the unfinished line, treats ``\\r\\n``, ``\\n`` and ``\\r`` alike as
line ends, joins multi-line ``data:`` fields with ``\\n``, ignores ``:`` comments (keep-alives such as
``: OPENROUTER PROCESSING``) and fields it does not know, and dispatches an event on each blank line.
It works on bytes so that ``json.loads`` can take the payload without an extra decode.

The server decides how long a line is, so the decoder bounds it: an unfinished line grows in a
bytearray and is joined with the read that ends it once (work linear in the bytes received,
however the line is cut, and no per-read overhead for a line trickled a byte at a time), and a line or an event's data longer than ``max_line`` stops the stream with
:class:`~lime.providers.openai_compat.errors.ResponseTooLarge`. The events completed before it are
still delivered; the error comes with the next call.
"""

from __future__ import annotations

from lime.providers.openai_compat.errors import ResponseTooLarge


class SSEDecoder:
    __slots__ = ("_data", "_data_size", "_error", "_event", "_max", "_skip_lf", "_tail")

    def __init__(self, max_line: int | None = None) -> None:
        if max_line is None:
            from lime import config

            max_line = config.max_sse_line()
        self._max = max_line
        self._tail: bytes | bytearray = b""  # the unfinished line (a bytearray while it grows)
        self._data: list[bytes] = []
        self._data_size = 0
        self._event = b""
        self._skip_lf = False
        self._error: ResponseTooLarge | None = None

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        """Consume one network read; return the completed events as ``(event_type, data)`` pairs."""
        if self._error is not None:
            raise self._error
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            if chunk[-1:] == b"\r":
                # The \r ends a line either way; a \n opening the next read belongs to it.
                self._skip_lf = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\n" not in chunk:
            if chunk:
                tail = self._tail
                if type(tail) is bytes:
                    # Appending to a bytearray is amortised linear; bytes + bytes would copy it all each read.
                    self._tail = tail = bytearray(tail)
                tail += chunk
                if len(tail) > self._max:
                    raise self._fail()
            return []
        if self._tail:
            chunk = b"".join((self._tail, chunk))
            self._tail = b""
        if not self._data and chunk[-2:] == b"\n\n" and len(chunk) <= self._max:
            # One whole event, nothing pending (the usual read of a server that flushes each event):
            # taken at once. Within the bound, no line of it can be too long.
            n = chunk.count(b"\n")
            if n == 2 and chunk[:6] == b"data: ":  # a data line
                event, self._event = self._event, b""
                return [(event or b"message", chunk[6:-2])] if len(chunk) > 8 else []
            if n == 3 and chunk[:7] == b"event: ":  # an event line and a data line
                cut = chunk.index(b"\n")
                if chunk[cut + 1:cut + 7] == b"data: ":
                    self._event = b""
                    return [(chunk[7:cut] or b"message", chunk[cut + 7:-2])] if len(chunk) > cut + 9 else []
        lines = chunk.split(b"\n")
        self._tail = lines.pop()
        out: list[tuple[bytes, bytes]] = []
        # Reads are far shorter than the limit, so a line can only be too long when this one is not.
        check = len(chunk) > self._max
        data = self._data
        for line in lines:
            if check and len(line) > self._max:
                self._fail()
                return out
            if line[:6] == b"data: ":
                data.append(line[6:])
                self._data_size += len(line)
                if self._data_size > self._max:
                    self._fail()
                    return out
            elif not line:
                if data:
                    payload = b"\n".join(data) if len(data) > 1 else data[0]
                    if payload:  # an empty data buffer dispatches nothing
                        out.append((self._event or b"message", payload))
                    data.clear()
                    self._data_size = 0
                self._event = b""
            elif line[:1] == b":":
                continue
            else:
                name, colon, value = line.partition(b":")
                if colon and value[:1] == b" ":
                    value = value[1:]
                if name == b"data":
                    data.append(value)
                    self._data_size += len(line)
                    if self._data_size > self._max:
                        self._fail()
                        return out
                elif name == b"event":
                    self._event = value
                # "id", "retry" and unknown fields carry nothing we use.
        if len(self._tail) > self._max:
            self._fail()
        return out

    def _fail(self) -> ResponseTooLarge:
        """Stop decoding: forget what is buffered; every later call raises the error."""
        self._error = err = ResponseTooLarge("one line of the event stream", self._max, "LIME_MAX_SSE_LINE")
        self._tail = b""
        self._data, self._data_size = [], 0
        return err

    def close(self) -> list[tuple[bytes, bytes]]:
        """End of stream. The spec drops an event without its closing blank line; we still deliver
        the complete ``data:`` lines of one, because some servers end the body right after the last
        line, and a cut-off final line (no line end) is dropped either way."""
        if self._error is not None:
            raise self._error
        out: list[tuple[bytes, bytes]] = []
        if self._data and any(self._data):
            out.append((self._event or b"message", b"\n".join(self._data)))
        elif len(self._tail) <= 16 and self._tail.replace(b" ", b"") == b"data:[DONE]":
            out.append((b"message", b"[DONE]"))
        self._data, self._data_size = [], 0
        self._tail = b""
        return out

    @property
    def pending(self) -> bool:
        """True when a line or event was cut off by the end of the stream."""
        return bool(self._tail or self._data)
