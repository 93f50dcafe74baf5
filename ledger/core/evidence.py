"""Content-addressed storage for evidence files (佐证材料).

When a village party secretary marks a problem resolved, they upload evidence:
before/after photos straight from a phone camera, PDFs, Office documents. This
module keeps those files safe and makes them retrievable again. Design:

* **Content-addressed.** A blob is named by the SHA-256 of its bytes and lives at
  ``root/<sha[0:2]>/<sha[2:4]>/<sha>``. Storing the same bytes twice yields one
  blob (deduplication), a blob never changes once written, and the only key a
  caller can ever pass back in is a 64-character lowercase hex digest, which
  :meth:`EvidenceStore.path_for` validates strictly, so no path traversal is
  possible.
* **Outside any web root.** ``root`` is a private directory; files are only ever
  served through the application, after an authorisation check, by digest.
* **Streamed, bounded, atomic.** Input is copied in 64 KiB chunks into a
  temporary file under ``root/tmp`` (same filesystem as the blobs) while it is
  hashed and counted. An oversized upload is aborted as soon as more than
  ``max_bytes`` have been read, so it is never held in memory whole. A finished
  temporary file is moved into place with :func:`os.replace`; every failure path
  removes it. Blobs are written with mode ``0o640``.
* **Type from content only.** The file type is detected from the bytes (magic
  numbers via the ``filetype`` library, ISO-BMFF brands for HEIF, the ZIP member
  list for Office Open XML, the compound-file directory for legacy Office),
  never from the uploader's file name or the client-sent content type. Anything
  not on the allow-list is refused: HTML, SVG (script risk), executables, plain
  text, other archives, other compound files (e.g. ``.msi`` installers).
* **The file name is metadata only.** :func:`safe_display_name` reduces an
  uploader's file name to a harmless display string to keep next to the digest;
  it is never used to build a path.

Detected types and the MIME types reported (``kind`` / ``mime``):

=========  ==========================================================================
kind       mime
=========  ==========================================================================
image      ``image/jpeg``, ``image/png``, ``image/gif``, ``image/webp``,
           ``image/heic`` (HEVC-coded HEIF, e.g. iPhone photos),
           ``image/heif`` (other HEIF still images)
pdf        ``application/pdf``
office     ``application/vnd.openxmlformats-officedocument.wordprocessingml.document``,
           ``application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``,
           ``application/vnd.openxmlformats-officedocument.presentationml.presentation``
           (OOXML: a ZIP holding ``[Content_Types].xml`` and ``word/``, ``xl/`` or
           ``ppt/``); ``application/msword``, ``application/vnd.ms-excel``,
           ``application/vnd.ms-powerpoint`` (legacy OLE2 compound files, told
           apart by their ``WordDocument``, ``Workbook``/``Book`` or
           ``PowerPoint Document`` stream)
=========  ==========================================================================

Legacy compound files are classified by their directory rather than accepted
on the magic number alone, so that the reported MIME type is precise (the web
layer can derive a download extension from it) and so that other compound
files, notably Windows Installer packages, are refused.

This is domain code: standard library plus ``filetype`` only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import struct
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from filetype.types import archive as _ft_archive
from filetype.types import image as _ft_image

from ledger.core.errors import EvidenceRejected, NotFound

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_MAX_BYTES",
    "EvidenceStore",
    "StoredBlob",
    "safe_display_name",
]

#: Upload size limit unless the store is configured otherwise (20 MiB).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Size of the chunks in which input is read, hashed and written (64 KiB).
CHUNK_SIZE = 64 * 1024

_BLOB_MODE = 0o640
_DIR_MODE = 0o750
_HEAD_BYTES = 8192
_DIGEST_RE = re.compile(r"[0-9a-f]{64}")
_MAX_DISPLAY_NAME = 200

KIND_IMAGE = "image"
KIND_PDF = "pdf"
KIND_OFFICE = "office"

# Only the matchers for allowed types are consulted, so nothing else can match.
# (An animated PNG matches the PNG matcher and is reported as image/png.)
_FILETYPE_MATCHERS = (
    _ft_image.Jpeg(),
    _ft_image.Png(),
    _ft_image.Gif(),
    _ft_image.Webp(),
    _ft_image.Heic(),
    _ft_archive.Pdf(),
)
_FILETYPE_KINDS = {
    "image/jpeg": KIND_IMAGE,
    "image/png": KIND_IMAGE,
    "image/gif": KIND_IMAGE,
    "image/webp": KIND_IMAGE,
    "image/heic": KIND_IMAGE,
    "application/pdf": KIND_PDF,
}

# HEIF still-image brands (ISO/IEC 23008-12). filetype only knows HEVC-coded
# files ("heic"); the generic "mif1" brand is also accepted, except when it is
# really AVIF (AV1-coded), which is not on the allow-list.
_HEIC_BRANDS = frozenset({"heic", "heix", "heim", "heis"})
_AVIF_BRANDS = frozenset({"avif", "avis"})

_ZIP_MAGIC = b"PK\x03\x04"
_OOXML_FOLDERS = (
    ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Main stream of each legacy Office application (compared case-insensitively,
# as compound-file names are).
_OLE2_STREAMS = (
    ("worddocument", "application/msword"),
    ("workbook", "application/vnd.ms-excel"),
    ("book", "application/vnd.ms-excel"),  # Excel 5.0/95
    ("powerpoint document", "application/vnd.ms-powerpoint"),
)
_CFB_MAXREGSECT = 0xFFFFFFFA
_CFB_ENDOFCHAIN = 0xFFFFFFFE
_CFB_NOSTREAM = 0xFFFFFFFF
_CFB_DIR_ENTRY = 128
_CFB_TYPE_STREAM = 2
_CFB_TYPE_ROOT = 5

# Characters Windows forbids in file names; replaced so that a display name can
# also serve as a suggested download name.
_RESERVED_NAME_CHARS = str.maketrans({c: "_" for c in '<>:"|?*'})
# Unicode categories dropped from display names: control, format (e.g. bidi
# overrides, zero-width characters), surrogate, private-use, unassigned, and
# line/paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class StoredBlob:
    """A stored evidence file: its digest, size in bytes, MIME type and kind.

    ``kind`` is ``"image"``, ``"pdf"`` or ``"office"``.
    """

    sha256: str
    size: int
    mime: str
    kind: str


class EvidenceStore:
    """Content-addressed blob store for evidence files under a private ``root``.

    ``root`` must lie outside any web root; it and its ``tmp/`` folder are
    created on demand. Uploads larger than ``max_bytes`` are refused.
    """

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Configure a store at ``root`` accepting files of at most ``max_bytes``."""
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.root = Path(root)
        self.max_bytes = max_bytes

    @property
    def tmp_dir(self) -> Path:
        """Folder for uploads in progress (same filesystem as the blobs)."""
        return self.root / "tmp"

    def store(self, data: bytes | BinaryIO, kinds: tuple[str, ...] | None = None) -> StoredBlob:
        """Store ``data`` (bytes or a binary stream) and describe the blob; with ``kinds``,
        only content of those kinds (``("image",)`` for photos) is accepted.

        The input is streamed in chunks into a temporary file while it is hashed
        and counted, its type is detected from the content, and the file is then
        moved atomically to its content-addressed path (or discarded if that blob
        already exists).

        Raises :class:`~ledger.core.errors.EvidenceRejected` with code
        ``evidence_too_large`` (more than ``max_bytes``), ``evidence_empty`` or
        ``evidence_type_refused``; no file is left behind in any of these cases.
        Raises :class:`TypeError` if ``data`` is neither bytes nor a binary stream.
        """
        self.tmp_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=self.tmp_dir)
        tmp_path = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), _BLOB_MODE)
                sha256, size = self._copy(data, out)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise _rejected("The file is empty.", "evidence_empty")
            mime, kind = _detect_type(tmp_path)
            if kinds is not None and kind not in kinds:
                raise _rejected("This kind of file is not accepted here.",
                                "evidence_type_refused")
            final = self._blob_path(sha256)
            if final.exists():
                tmp_path.unlink()
            else:
                final.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
                os.replace(tmp_path, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()
            raise
        return StoredBlob(sha256=sha256, size=size, mime=mime, kind=kind)

    def path_for(self, sha256: str) -> Path:
        """Return the path of the blob with digest ``sha256``.

        ``sha256`` must be exactly 64 lowercase hex characters. Raises
        :class:`~ledger.core.errors.NotFound` if it is not, or if no such blob exists.
        """
        if not isinstance(sha256, str) or _DIGEST_RE.fullmatch(sha256) is None:
            raise NotFound("No such evidence file.")
        path = self._blob_path(sha256)
        if not path.is_file():
            raise NotFound("No such evidence file.")
        return path

    def open(self, sha256: str) -> BinaryIO:
        """Open the blob with digest ``sha256`` for binary reading (caller closes it).

        Raises :class:`~ledger.core.errors.NotFound` like :meth:`path_for`.
        """
        path = self.path_for(sha256)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise NotFound("No such evidence file.") from None

    def _blob_path(self, sha256: str) -> Path:
        return self.root / sha256[0:2] / sha256[2:4] / sha256

    def _copy(self, data: bytes | BinaryIO, out: BinaryIO) -> tuple[str, int]:
        """Copy ``data`` into ``out``; return its digest and size; enforce the limit."""
        digest = hashlib.sha256()
        size = 0
        for chunk in _chunks(data, self.max_bytes):
            size += len(chunk)
            if size > self.max_bytes:
                raise _rejected(
                    f"The file is larger than the limit of {self.max_bytes} bytes.",
                    "evidence_too_large",
                    max_bytes=self.max_bytes,
                )
            digest.update(chunk)
            out.write(chunk)
        return digest.hexdigest(), size


def safe_display_name(name: str | None) -> str:
    """Reduce an uploader's file name to a harmless display string.

    Keeps only the last path component (``/`` and ``\\`` both separate), drops
    control and invisible formatting characters (including bidi overrides),
    collapses whitespace, replaces characters Windows forbids in file names
    with ``_``, and limits the result to 200 characters, keeping a short
    extension. Chinese and other letters are kept. An empty result becomes
    ``"file"``. The result is for display only and is never used as a path.
    """
    if not name:
        return "file"
    text = unicodedata.normalize("NFC", str(name)).replace("\\", "/")
    text = text.rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    text = " ".join(text.split()).translate(_RESERVED_NAME_CHARS)
    if len(text) > _MAX_DISPLAY_NAME:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            text = stem[: _MAX_DISPLAY_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            text = text[:_MAX_DISPLAY_NAME].rstrip()
    if text in ("", ".", ".."):
        return "file"
    return text


def _rejected(message: str, code: str, **details: object) -> EvidenceRejected:
    return EvidenceRejected(message, code=code, fields={"file": message}, **details)


def _chunks(data: bytes | BinaryIO, limit: int) -> Iterator[bytes | memoryview]:
    """Yield ``data`` in chunks, reading at most ``limit + 1`` bytes in total."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data).cast("B")
        end = min(len(view), limit + 1)
        for start in range(0, end, CHUNK_SIZE):
            yield view[start : min(start + CHUNK_SIZE, end)]
        return
    if not callable(getattr(data, "read", None)):
        raise TypeError(f"expected bytes or a binary stream, got {type(data).__name__}")
    budget = limit + 1
    while budget > 0:
        chunk = data.read(min(CHUNK_SIZE, budget))
        if not chunk:
            return
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError("expected a binary stream, got one yielding text")
        budget -= len(chunk)
        yield chunk


def _detect_type(path: Path) -> tuple[str, str]:
    """Return ``(mime, kind)`` of the file at ``path`` from its content, or refuse it."""
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
        if head.startswith(_OLE2_MAGIC):
            mime = _ole2_office_mime(f)
            if mime is not None:
                return mime, KIND_OFFICE
            raise _type_refused()
    match = filetype.match(head, matchers=_FILETYPE_MATCHERS)
    if match is not None:
        return match.mime, _FILETYPE_KINDS[match.mime]
    heif = _heif_mime(head)
    if heif is not None:
        return heif, KIND_IMAGE
    if head.startswith(_ZIP_MAGIC):
        mime = _ooxml_mime(path)
        if mime is not None:
            return mime, KIND_OFFICE
    raise _type_refused()


def _type_refused() -> EvidenceRejected:
    return _rejected(
        "This type of file is not accepted; upload a photo (JPEG, PNG, GIF, WebP, HEIC), "
        "a PDF or an Office document.",
        "evidence_type_refused",
    )


def _heif_mime(head: bytes) -> str | None:
    """MIME type of a HEIF still image judged by its ``ftyp`` box, else None."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[0:4], "big")
    if box_size < 16 or box_size > len(head):
        return None
    major = head[8:12].decode("latin-1")
    compatible = {head[i : i + 4].decode("latin-1") for i in range(16, box_size - 3, 4)}
    brands = compatible | {major}
    if brands & _HEIC_BRANDS and (major in _HEIC_BRANDS or major == "mif1"):
        return "image/heic"
    if major == "mif1" and not brands & _AVIF_BRANDS:
        return "image/heif"
    return None


def _ooxml_mime(path: Path) -> str | None:
    """MIME type of an Office Open XML package judged by its member list, else None."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n.lower() for n in archive.namelist()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error):
        return None
    if "[content_types].xml" not in names:
        return None
    for folder, mime in _OOXML_FOLDERS:
        if any(n.startswith(folder) for n in names):
            return mime
    return None


def _ole2_office_mime(f: BinaryIO) -> str | None:
    """MIME type of a legacy Office compound file, by its root streams, else None.

    Walks the compound-file (MS-CFB) directory: header, DIFAT, FAT, directory
    chain, then the root storage's red-black tree of children. Malformed files
    give None. Every chain walk is guarded against loops and out-of-range
    sectors, and reads are bounded by the file size (itself bounded by the
    store's limit).
    """
    try:
        names = _ole2_root_stream_names(f)
    except (struct.error, ValueError, IndexError, OSError):
        return None
    for stream, mime in _OLE2_STREAMS:
        if stream in names:
            return mime
    return None


def _ole2_root_stream_names(f: BinaryIO) -> set[str]:
    f.seek(0)
    header = f.read(512)
    if len(header) < 512 or header[:8] != _OLE2_MAGIC:
        raise ValueError("not a compound file")
    major, byte_order, sector_shift = struct.unpack_from("<HHH", header, 26)
    if byte_order != 0xFFFE or (major, sector_shift) not in ((3, 9), (4, 12)):
        raise ValueError("unsupported compound file header")
    sector_size = 1 << sector_shift
    file_size = os.fstat(f.fileno()).st_size
    sector_count = max(0, (file_size - 1) // sector_size)  # the header occupies sector -1

    def read_sector(sid: int) -> bytes:
        if sid > _CFB_MAXREGSECT or sid >= sector_count:
            raise ValueError("sector out of range")
        f.seek((sid + 1) * sector_size)
        data = f.read(sector_size)
        if not data:
            raise ValueError("truncated compound file")
        return data.ljust(sector_size, b"\0")

    per_sector = sector_size // 4
    fat_count, first_dir = struct.unpack_from("<II", header, 44)
    first_difat, difat_count = struct.unpack_from("<II", header, 68)
    if fat_count > sector_count:
        raise ValueError("bad FAT sector count")

    fat_sectors = list(struct.unpack_from("<109I", header, 76))
    sid, seen = first_difat, set()
    while len(fat_sectors) < fat_count and sid <= _CFB_MAXREGSECT and len(seen) < difat_count:
        if sid in seen:
            raise ValueError("DIFAT loop")
        seen.add(sid)
        entries = struct.unpack(f"<{per_sector}I", read_sector(sid))
        fat_sectors.extend(entries[:-1])
        sid = entries[-1]
    if len(fat_sectors) < fat_count:
        raise ValueError("DIFAT too short")

    fat: list[int] = []
    for fat_sid in fat_sectors[:fat_count]:
        fat.extend(struct.unpack(f"<{per_sector}I", read_sector(fat_sid)))

    directory = bytearray()
    sid, seen = first_dir, set()
    while sid != _CFB_ENDOFCHAIN:
        if sid in seen or sid >= len(fat):
            raise ValueError("bad directory chain")
        seen.add(sid)
        directory += read_sector(sid)
        sid = fat[sid]

    entry_count = len(directory) // _CFB_DIR_ENTRY

    def entry(i: int) -> tuple[str, int, int, int, int]:
        raw = memoryview(directory)[i * _CFB_DIR_ENTRY : (i + 1) * _CFB_DIR_ENTRY]
        (name_len,) = struct.unpack_from("<H", raw, 64)
        obj_type = raw[66]
        left, right, child = struct.unpack_from("<III", raw, 68)
        name = ""
        if 2 <= name_len <= 64:
            name = bytes(raw[: name_len - 2]).decode("utf-16-le", errors="replace")
        return name, obj_type, left, right, child

    if entry_count == 0:
        raise ValueError("empty directory")
    _, root_type, _, _, root_child = entry(0)
    if root_type != _CFB_TYPE_ROOT:
        raise ValueError("no root entry")

    names: set[str] = set()
    stack, visited = [root_child], set()
    while stack:
        i = stack.pop()
        if i == _CFB_NOSTREAM:
            continue
        if i in visited or i >= entry_count:
            raise ValueError("bad directory tree")
        visited.add(i)
        name, obj_type, left, right, _child = entry(i)
        if obj_type == _CFB_TYPE_STREAM:
            names.add(name.lower())
        stack += (left, right)
    return names
