"""Small real files for upload tests (importable as ``samples`` from any test)."""

from __future__ import annotations

import struct
import zlib


def make_png(red: int = 255) -> bytes:
    """A real, minimal 1x1 RGB PNG (``red`` varies the content, hence the hash)."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes([0, red, 0, 0]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
