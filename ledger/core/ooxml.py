"""A close look inside Office Open XML packages (.docx, .xlsx, .pptx) before they are kept.

Such a package is a ZIP archive, and a ZIP can carry anything: a macro project
renamed into a .docx, an executable or another archive beside ``word/``, or a
few kilobytes that unpack to gigabytes (a zip bomb).  :func:`inspect_package`
opens the archive with :mod:`zipfile` and accepts it only when

* it holds ``[Content_Types].xml`` and exactly one application folder
  (``word/``, ``xl/`` or ``ppt/``), and otherwise only the package's own parts
  (``_rels/``, ``docProps/``, ``customXml/``);
* no part is a macro project or ActiveX control (``vbaProject.bin``,
  ``vbaData.xml``, ``activeX/``), no content type is macro-enabled, and no part
  is an executable, a script, an embedded OLE object or another archive (judged
  by the part's name *and* its first bytes; so a chart's embedded workbook is
  refused too: such documents are to be sent as PDF);
* it has at most :data:`MAX_PARTS` parts, and their declared sizes add up to at
  most :data:`MAX_UNCOMPRESSED` bytes (only a few bytes of each part are ever
  unpacked, and :mod:`zipfile` never unpacks more than a part's declared size).

Standard library only.
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

__all__ = ["MAX_PARTS", "MAX_UNCOMPRESSED", "PackageRefused", "inspect_package"]

#: at most this many parts in one package
MAX_PARTS = 5000
#: the declared uncompressed sizes of all parts add up to at most this (200 MiB)
MAX_UNCOMPRESSED = 200 * 1024 * 1024
#: ``[Content_Types].xml`` is read whole, so it is bounded on its own (1 MiB)
_MAX_CONTENT_TYPES = 1024 * 1024

_APPLICATIONS = (
    ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
_PACKAGE_PARTS = ("[content_types].xml", "_rels/", "docprops/", "customxml/")
_MACRO_NAMES = re.compile(r"(^|/)(vbaproject\.bin|vbadata\.xml|activex/)")
_MACRO_TYPES = re.compile(rb"macroenabled|vbaproject|ms-office\.activex|ms-office\.vba",
                          re.IGNORECASE)
#: names of parts never accepted: programs, scripts, embedded objects, archives
_BAD_SUFFIXES = frozenset({
    "exe", "dll", "scr", "com", "bat", "cmd", "pif", "cpl", "msi", "msp", "msc", "jar", "js",
    "jse", "vbs", "vbe", "wsf", "wsh", "hta", "ps1", "psm1", "lnk", "sh", "elf", "so", "dylib",
    "app", "reg", "inf", "chm", "ole", "zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "cab",
    "arj", "lzh", "iso", "img", "docm", "xlsm", "pptm", "dotm", "xltm", "potm", "ppam", "xlam",
    "docx", "xlsx", "pptx", "doc", "xls", "ppt",
})
#: first bytes of programs and archives, whatever the part is called
_BAD_MAGIC = (
    b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!", b"PK\x03\x04", b"PK\x05\x06", b"Rar!",
    b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"MSCF",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
)


class PackageRefused(Exception):
    """The archive is an Office package, but not one to keep; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def inspect_package(path: Path) -> str | None:
    """The MIME type of the Office package at ``path``, ``None`` if it is no Office package.

    Raises :class:`PackageRefused` for a package that is one but carries macros,
    programs, archives, unexpected parts, or too much data once unpacked.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return _inspect(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            struct.error, NotImplementedError, RuntimeError):
        return None


def _inspect(archive: zipfile.ZipFile) -> str | None:
    infos = archive.infolist()
    names = [info.filename.replace("\\", "/").lower() for info in infos]
    if "[content_types].xml" not in names:
        return None
    folders = [(folder, mime) for folder, mime in _APPLICATIONS
               if any(n.startswith(folder) for n in names)]
    if not folders:
        return None
    if len(folders) > 1:
        raise PackageRefused("more than one application folder")
    if len(infos) > MAX_PARTS:
        raise PackageRefused("too many parts")
    if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
        raise PackageRefused("too large once unpacked")
    folder, mime = folders[0]
    for info, name in zip(infos, names, strict=True):
        _check_part(archive, info, name, folder)
    return mime


def _check_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
                folder: str) -> None:
    if name.startswith("/") or ".." in name.split("/"):
        raise PackageRefused(f"unsafe part name {name}")
    if not (name.startswith(folder) or name.startswith(_PACKAGE_PARTS)):
        raise PackageRefused(f"unexpected part {name}")
    if _MACRO_NAMES.search(name):
        raise PackageRefused(f"macro or ActiveX part {name}")
    if info.is_dir():
        return
    if name.rpartition("/")[2].rpartition(".")[2] in _BAD_SUFFIXES:
        raise PackageRefused(f"program, embedded object or archive {name}")
    with archive.open(info) as part:
        if name == "[content_types].xml":
            if info.file_size > _MAX_CONTENT_TYPES:
                raise PackageRefused("oversized content types")
            if _MACRO_TYPES.search(part.read(_MAX_CONTENT_TYPES)):
                raise PackageRefused("macro-enabled content type")
            return
        head = part.read(8)
    if head.startswith(_BAD_MAGIC):
        raise PackageRefused(f"program, embedded object or archive {name}")
