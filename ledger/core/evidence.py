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
  it is never used to build a path. A name whose extension contradicts the
  content (a JPEG called ``.hta``, a PNG called ``setup.exe``) is refused, and
  :func:`download_name` always serves a file under an extension of its
  detected type, whatever the stored name says.
* **Staged until accepted.** :meth:`EvidenceStore.stage` checks an upload and
  leaves it in ``tmp/``; only :meth:`EvidenceStore.commit`, called inside the
  transaction that records the file, moves it into the blob tree, and
  :meth:`EvidenceStore.discard` removes it on every other path. A page that
  keeps a file for a retry moves it to ``kept/`` under a random id
  (:meth:`EvidenceStore.keep`), valid for :data:`KEPT_MAX_AGE`. Whatever is
  left behind (a crash, a transaction that lost a race after the move) is
  removed by the daily ``evidence_gc`` job (:mod:`ledger.core.evidence_gc`).

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
           ``ppt/``, and nothing dangerous: see :mod:`ledger.core.ooxml`);
           ``application/msword``, ``application/vnd.ms-excel``,
           ``application/vnd.ms-powerpoint`` (legacy OLE2 compound files, told
           apart by their ``WordDocument``, ``Workbook``/``Book`` or
           ``PowerPoint Document`` stream)
=========  ==========================================================================

Legacy compound files are classified by their directory rather than accepted
on the magic number alone, so that the reported MIME type is precise (the web
layer can derive a download extension from it) and so that other compound
files, notably Windows Installer packages, are refused, as are those carrying
a macro project (a ``Macros`` or ``_VBA_PROJECT_CUR`` storage).

This is domain code: standard library plus ``filetype`` only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import secrets
import struct
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import filetype
from filetype.types import archive as _ft_archive
from filetype.types import image as _ft_image

from ledger.core.errors import EvidenceRejected, NotFound
from ledger.core.ooxml import PackageRefused, inspect_package

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_MAX_BYTES",
    "EXTENSIONS",
    "KEPT_MAX_AGE",
    "EvidenceStore",
    "StagedFile",
    "StoredBlob",
    "declared_extension",
    "download_name",
    "safe_display_name",
]

#: Upload size limit unless the store is configured otherwise (20 MiB).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Size of the chunks in which input is read, hashed and written (64 KiB).
CHUNK_SIZE = 64 * 1024

#: how long a file kept for a retry (after a refused form) stays usable
KEPT_MAX_AGE = dt.timedelta(hours=12)

_BLOB_MODE = 0o640
_DIR_MODE = 0o750
_HEAD_BYTES = 8192
_DIGEST_RE = re.compile(r"[0-9a-f]{64}")
_KEPT_ID_RE = re.compile(r"[0-9a-f]{32}")
_SHARD_RE = re.compile(r"[0-9a-f]{2}")
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
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

#: the extension a file is served under, by detected MIME type
EXTENSIONS = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
    "image/heic": "heic", "image/heif": "heif", "application/pdf": "pdf",
    _DOCX: "docx", _XLSX: "xlsx", _PPTX: "pptx", "application/msword": "doc",
    "application/vnd.ms-excel": "xls", "application/vnd.ms-powerpoint": "ppt",
}
# Spellings of each type's own extension (kept in a download name as the user wrote it).
_OWN = {
    "image/jpeg": {"jpg", "jpeg", "jpe", "jfif"}, "image/heic": {"heic", "heif", "hif"},
    "image/heif": {"heif", "heic", "hif"}, "application/msword": {"doc", "wps"},
    "application/vnd.ms-excel": {"xls", "et"}, "application/vnd.ms-powerpoint": {"ppt", "dps"},
}
# Extensions a name may declare without contradicting the content: its own type's,
# or a sibling's (a photo saved as .jpg that is a PNG; a .docx saved as .doc;
# WPS Office's .wps/.et/.dps). Anything else contradicts it and is refused.
_IMAGE_EXTS = frozenset({"jpg", "jpeg", "jpe", "jfif", "png", "gif", "webp", "heic", "heif",
                         "hif"})
_FAMILIES = (
    frozenset({"doc", "docx", "wps"}), frozenset({"xls", "xlsx", "et"}),
    frozenset({"ppt", "pptx", "dps"}), frozenset({"pdf"}), _IMAGE_EXTS,
)
_DECLARED_RE = re.compile(r"\.([0-9A-Za-z]{1,5})$")

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
_CFB_TYPE_STORAGE = 1
_CFB_TYPE_STREAM = 2
# Storages holding a VBA project: Word's "Macros", Excel's "_VBA_PROJECT_CUR".
_OLE2_MACRO_STORAGES = frozenset({"macros", "_vba_project_cur"})
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


@dataclass(frozen=True)
class StagedFile:
    """An upload checked by content and size that is not in the blob store yet.

    ``path`` lies in the store's ``tmp/`` folder (this request's upload) or in
    ``kept/`` (kept for a retry, under ``kept_id``). ``name`` is the display name.
    """

    path: Path
    blob: StoredBlob
    name: str
    kept_id: str | None = None


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

    @property
    def kept_dir(self) -> Path:
        """Folder of files kept for a retry after a refused form (see :meth:`keep`)."""
        return self.root / "kept"

    def store(self, data: bytes | BinaryIO, filename: str | None = None,
              kinds: tuple[str, ...] | None = None) -> StoredBlob:
        """Stage ``data`` and commit it at once (:meth:`stage`, then :meth:`commit`).

        For callers that have nothing to refuse after the file's own checks;
        services that may still refuse the request stage first and commit last.
        """
        staged = self.stage(data, filename, kinds)
        try:
            return self.commit(staged)
        finally:
            self.discard(staged)

    def stage(self, data: bytes | BinaryIO, filename: str | None = None,
              kinds: tuple[str, ...] | None = None) -> StagedFile:
        """Check ``data`` (bytes or a binary stream) and leave it in ``tmp/``; with
        ``kinds``, only content of those kinds (``("image",)`` for photos) is accepted.

        The input is streamed in chunks into a temporary file while it is hashed
        and counted, and its type is detected from the content. When
        ``filename`` is given, its extension must not contradict the content.
        Nothing enters the blob tree until :meth:`commit`; :meth:`discard`
        removes the staged file.

        Raises :class:`~ledger.core.errors.EvidenceRejected` with code
        ``evidence_too_large`` (more than ``max_bytes``), ``evidence_empty``,
        ``evidence_type_refused``, ``evidence_office_unsafe`` (macros, programs,
        archives or too much data inside an Office file) or
        ``evidence_name_mismatch``; no file is left behind in any of these cases.
        Raises :class:`TypeError` if ``data`` is neither bytes nor a binary stream.
        """
        self.tmp_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=self.tmp_dir)
        tmp_path = Path(tmp_name)
        name = safe_display_name(filename)
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
            if filename:
                _check_name(name, mime)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()
            raise
        return StagedFile(tmp_path, StoredBlob(sha256=sha256, size=size, mime=mime, kind=kind),
                          name)

    def commit(self, staged: StagedFile) -> StoredBlob:
        """Move a staged file to its content-addressed path (call it inside the transaction).

        A blob that exists already is kept and its time refreshed, so the
        garbage collector sees it as young while the new reference commits.
        Raises :class:`~ledger.core.errors.NotFound` when the staged file is
        gone (a kept file used twice, or expired and collected).
        """
        final = self._blob_path(staged.blob.sha256)
        final.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        try:
            if final.exists():
                staged.path.unlink()
            else:
                os.replace(staged.path, final)
        except FileNotFoundError:
            raise NotFound("The uploaded file is no longer available; upload it again.") \
                from None
        os.utime(final)
        return staged.blob

    def discard(self, staged: StagedFile) -> None:
        """Remove a staged or kept file (nothing happens if it was committed or is gone)."""
        with contextlib.suppress(FileNotFoundError):
            staged.path.unlink()

    def keep(self, staged: StagedFile) -> StagedFile:
        """Move a staged file to ``kept/`` under a random id, for a retry of the form.

        A file kept already stays where it is, its time refreshed. The caller
        hands out the id only inside a token that expires after :data:`KEPT_MAX_AGE`;
        the garbage collector removes kept files older than that.
        """
        if staged.kept_id is not None:
            os.utime(staged.path)
            return staged
        self.kept_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        kept_id = secrets.token_hex(16)
        path = self.kept_dir / kept_id
        os.replace(staged.path, path)
        os.utime(path)
        return replace(staged, path=path, kept_id=kept_id)

    def kept(self, kept_id: str, blob: StoredBlob, name: str) -> StagedFile | None:
        """The file kept under ``kept_id`` (described by ``blob``), or None if it is gone."""
        if not isinstance(kept_id, str) or _KEPT_ID_RE.fullmatch(kept_id) is None:
            return None
        path = self.kept_dir / kept_id
        if not path.is_file() or path.stat().st_size != blob.size:
            return None
        return StagedFile(path, blob, name, kept_id)

    def keep_text(self, data: bytes) -> str:
        """Keep the text a refused form carried (``data``) in ``kept/``; its random id.

        A refused upload redirects to the item's page (a refresh must not post again),
        and the page shows the form once more with what was typed: too much text for
        the session cookie, so it waits here until :meth:`take_text` (or the garbage
        collector, after :data:`KEPT_MAX_AGE`)."""
        self.kept_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        kept_id = secrets.token_hex(16)
        (self.kept_dir / kept_id).write_bytes(data)
        return kept_id

    def take_text(self, kept_id: str) -> bytes | None:
        """The text kept under ``kept_id``, removed as it is read; None when gone."""
        if not isinstance(kept_id, str) or _KEPT_ID_RE.fullmatch(kept_id) is None:
            return None
        path = self.kept_dir / kept_id
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        path.unlink(missing_ok=True)
        return data

    def blob_files(self) -> Iterator[tuple[str, Path]]:
        """Every blob in the store as (digest, path), for the garbage collector."""
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not (first.is_dir() and _SHARD_RE.fullmatch(first.name)):
                continue
            for second in sorted(first.iterdir()):
                if not (second.is_dir() and _SHARD_RE.fullmatch(second.name)):
                    continue
                for path in sorted(second.iterdir()):
                    if _DIGEST_RE.fullmatch(path.name) and path.is_file():
                        yield path.name, path

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


def declared_extension(name: str | None) -> str | None:
    """The extension a file name declares, lowercased: 1–5 letters or digits, one a letter.

    ``整改报告.hta`` declares ``hta``; ``会议记录12.01`` and ``IMG_0001`` declare none.
    """
    match = _DECLARED_RE.search(name or "")
    if match is None or not any(c.isalpha() for c in match.group(1)):
        return None
    return match.group(1).lower()


def download_name(name: str | None, mime: str) -> str:
    """The name a stored file is served under: its display name with the detected extension.

    The uploader's extension is kept when it is one of the type's own spellings
    (``IMG_0001.JPEG``); otherwise it is replaced (``整改报告.hta`` → ``整改报告.jpg``)
    or added (``方案`` → ``方案.docx``), so a download never opens as a program.
    """
    shown = safe_display_name(name)
    extension = EXTENSIONS.get(mime, "bin")
    declared = declared_extension(shown)
    if declared is not None and declared in _OWN.get(mime, {extension}):
        return shown
    stem = shown[: -len(declared) - 1] if declared is not None else shown
    return f"{stem.rstrip('. ') or 'file'}.{extension}"


def _check_name(name: str, mime: str) -> None:
    """Refuse a name whose extension contradicts the detected content."""
    declared = declared_extension(name)
    if declared is None:
        return
    own = EXTENSIONS[mime]
    if any(declared in family and own in family for family in _FAMILIES):
        return
    raise _rejected(
        f"The file name ends in .{declared} but the file is a .{own} file; nothing was stored.",
        "evidence_name_mismatch", extension=declared, detected=own)


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
        try:
            mime = inspect_package(path)
        except PackageRefused as exc:
            raise _rejected(
                f"This Office document is not accepted ({exc.reason}): it contains macros, "
                "programs, embedded objects or archives, or is too large once unpacked.",
                "evidence_office_unsafe", reason=exc.reason) from None
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


def _ole2_office_mime(f: BinaryIO) -> str | None:
    """MIME type of a legacy Office compound file, by its root streams, else None.

    Walks the compound-file (MS-CFB) directory: header, DIFAT, FAT, directory
    chain, then the root storage's red-black tree of children. Malformed files
    give None. Every chain walk is guarded against loops and out-of-range
    sectors, and reads are bounded by the file size (itself bounded by the
    store's limit).
    """
    try:
        names, storages = _ole2_root_entries(f)
    except (struct.error, ValueError, IndexError, OSError):
        return None
    if storages & _OLE2_MACRO_STORAGES:
        raise _rejected("This Office document is not accepted (macro project): it contains "
                        "macros, programs, embedded objects or archives, or is too large "
                        "once unpacked.", "evidence_office_unsafe", reason="macro project")
    for stream, mime in _OLE2_STREAMS:
        if stream in names:
            return mime
    return None


def _ole2_root_entries(f: BinaryIO) -> tuple[set[str], set[str]]:
    """Lowercased names of the root storage's streams and of its storages."""
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
    storages: set[str] = set()
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
        elif obj_type == _CFB_TYPE_STORAGE:
            storages.add(name.lower())
        stack += (left, right)
    return names, storages
