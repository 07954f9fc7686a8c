"""An incremental Server-Sent Events decoder that follows the WHATWG event-stream rules.

Network reads cut the stream anywhere: in the middle of a line, between ``\\r`` and ``\\n``, inside a
UTF-8 sequence. The decoder keeps the unfinished line, treats ``\\r\\n``, ``\\n`` and ``\\r`` alike as
line ends, joins multi-line ``data:`` fields with ``\\n``, ignores ``:`` comments (keep-alives such as
``: OPENROUTER PROCESSING``) and fields it does not know, and dispatches an event on each blank line.
It works on bytes so that ``json.loads`` can take the payload without an extra decode.
"""

from __future__ import annotations


class SSEDecoder:
    __slots__ = ("_buf", "_data", "_event", "_skip_lf")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[bytes] = []
        self._event = b""
        self._skip_lf = False

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        """Consume one network read; return the completed events as ``(event_type, data)`` pairs."""
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            if chunk[-1:] == b"\r":
                # The \r ends a line either way; a \n opening the next read belongs to it.
                self._skip_lf = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._buf:
            chunk = self._buf + chunk
        lines = chunk.split(b"\n")
        self._buf = lines.pop()
        out: list[tuple[bytes, bytes]] = []
        data = self._data
        for line in lines:
            if line[:6] == b"data: ":
                data.append(line[6:])
            elif not line:
                if data:
                    payload = b"\n".join(data) if len(data) > 1 else data[0]
                    if payload:  # an empty data buffer dispatches nothing
                        out.append((self._event or b"message", payload))
                    data.clear()
                self._event = b""
            elif line[:1] == b":":
                continue
            else:
                name, colon, value = line.partition(b":")
                if colon and value[:1] == b" ":
                    value = value[1:]
                if name == b"data":
                    data.append(value)
                elif name == b"event":
                    self._event = value
                # "id", "retry" and unknown fields carry nothing we use.
        return out

    def close(self) -> list[tuple[bytes, bytes]]:
        """End of stream. The spec drops an event without its closing blank line; we still deliver
        the complete ``data:`` lines of one, because some servers end the body right after the last
        line, and a cut-off final line (no line end) is dropped either way."""
        out: list[tuple[bytes, bytes]] = []
        if self._data and any(self._data):
            out.append((self._event or b"message", b"\n".join(self._data)))
        elif self._buf.replace(b" ", b"") == b"data:[DONE]":
            out.append((b"message", b"[DONE]"))
        self._data = []
        self._buf = b""
        return out

    @property
    def pending(self) -> bool:
        """True when a line or event was cut off by the end of the stream."""
        return bool(self._buf or self._data)
