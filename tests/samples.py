"""Small real files for upload tests (importable as ``samples`` from any test)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def make_png(red: int = 255) -> bytes:
    """A real, minimal 1x1 RGB PNG (``red`` varies the content, hence the hash)."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes([0, red, 0, 0]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def make_office(folder: str, padding: int = 0) -> bytes:
    """A minimal Office Open XML package: ``word`` (docx), ``xl`` (xlsx) or ``ppt`` (pptx).

    ``padding`` bytes of incompressible text in the main part make it larger.
    """
    main = {"word": "document.xml", "xl": "workbook.xml", "ppt": "presentation.xml"}[folder]
    filler = "".join(f"{n:08x}" for n in range(padding // 8 + 1))[:padding]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(f"{folder}/{main}", f'<?xml version="1.0"?><w>整改完成{filler}</w>')
    return buffer.getvalue()


def make_pdf(size: int = 0) -> bytes:
    """A PDF (by its header) of at least ``size`` bytes."""
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    return head + b"%" * max(0, size - len(head) - len(tail)) + tail
