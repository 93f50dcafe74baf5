"""Unit tests for the content-addressed evidence store (ledger.core.evidence)."""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.core.errors import EvidenceRejected, NotFound, ValidationError
from ledger.core.evidence import (
    CHUNK_SIZE,
    DEFAULT_MAX_BYTES,
    EvidenceStore,
    StoredBlob,
    safe_display_name,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


# --- sample files ----------------------------------------------------------------------


def make_png() -> bytes:
    """A real, minimal 1x1 RGB PNG."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def make_jpeg() -> bytes:
    """A JPEG built from a real JFIF header (SOI, APP0, DQT stub, EOI)."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\x00" + bytes(range(1, 65))
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xdb"
        + struct.pack(">H", len(dqt) + 2)
        + dqt
        + b"\xff\xd9"
    )


def make_gif() -> bytes:
    """A real 1x1 transparent GIF89a."""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def make_webp() -> bytes:
    """A WebP built from its RIFF header and a VP8L chunk header."""
    vp8l = b"\x2f\x00\x00\x00\x00"
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l + b"\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def make_isobmff(major: bytes, *compatible: bytes) -> bytes:
    """An ISO-BMFF file: an ftyp box with the given brands, then an empty meta box."""
    ftyp_body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    ftyp = struct.pack(">I", 8 + len(ftyp_body)) + b"ftyp" + ftyp_body
    meta = struct.pack(">I", 12) + b"meta" + b"\x00\x00\x00\x00"
    return ftyp + meta


def make_pdf() -> bytes:
    """A minimal valid one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def make_zip(members: dict[str, str]) -> bytes:
    """A ZIP archive holding ``members`` (name -> text)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def make_ooxml(folder: str, main_part: str) -> bytes:
    """A real Office Open XML package (as Word/Excel/PowerPoint lay them out)."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/officeDocument" Target="{folder}/{main_part}"/>'
        "</Relationships>"
    )
    return make_zip(
        {
            "[Content_Types].xml": content_types,
            "_rels/.rels": rels,
            f"{folder}/{main_part}": '<?xml version="1.0"?><root>整改完成</root>',
        }
    )


def make_docx() -> bytes:
    return make_ooxml("word", "document.xml")


def make_ole2(*streams: str, major: int = 3) -> bytes:
    """A real, minimal compound file (MS-CFB) whose root storage holds ``streams``.

    Layout: header, one FAT sector (sector 0), one directory sector (sector 1).
    The streams are empty; the root's children are chained as right siblings.
    """
    free, end_of_chain, fat_sect, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    shift = 9 if major == 3 else 12
    sector = 1 << shift
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\0" * 16,
        0x3E,
        major,
        0xFFFE,
        shift,
        6,
        b"\0" * 6,
        0,  # directory sectors (0 for version 3)
        1,  # FAT sectors
        1,  # first directory sector
        0,  # transaction signature
        4096,  # mini stream cutoff
        end_of_chain,  # first mini FAT sector
        0,
        end_of_chain,  # first DIFAT sector
        0,
    ) + struct.pack("<109I", 0, *[free] * 108)
    header = header.ljust(sector, b"\0")
    fat = struct.pack(f"<{sector // 4}I", fat_sect, end_of_chain, *[free] * (sector // 4 - 2))

    def entry(name: str, obj_type: int, right: int = no_stream, child: int = no_stream) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            encoded,
            len(encoded),
            obj_type,
            1,  # black
            no_stream,
            right,
            child,
            b"\0" * 16,
            0,
            0,
            0,
            end_of_chain,
            0,
        )

    entries = [entry("Root Entry", 5, child=1 if streams else no_stream)]
    for i, name in enumerate(streams, start=1):
        entries.append(entry(name, 2, right=i + 1 if i < len(streams) else no_stream))
    directory = b"".join(entries).ljust(sector, b"\0")
    return header + fat + directory


def all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence")


# --- accepted types ------------------------------------------------------------------------

ACCEPTED = [
    pytest.param(make_png(), "image/png", "image", id="png"),
    pytest.param(make_jpeg(), "image/jpeg", "image", id="jpeg"),
    pytest.param(make_gif(), "image/gif", "image", id="gif"),
    pytest.param(make_webp(), "image/webp", "image", id="webp"),
    pytest.param(make_isobmff(b"heic", b"mif1", b"heic"), "image/heic", "image", id="heic"),
    pytest.param(make_isobmff(b"mif1", b"mif1", b"heic"), "image/heic", "image", id="heic-mif1"),
    pytest.param(make_isobmff(b"heix", b"mif1", b"heix"), "image/heic", "image", id="heix"),
    pytest.param(make_isobmff(b"mif1", b"mif1", b"miaf"), "image/heif", "image", id="heif"),
    pytest.param(make_pdf(), "application/pdf", "pdf", id="pdf"),
    pytest.param(make_docx(), DOCX, "office", id="docx"),
    pytest.param(make_ooxml("xl", "workbook.xml"), XLSX, "office", id="xlsx"),
    pytest.param(make_ooxml("ppt", "presentation.xml"), PPTX, "office", id="pptx"),
    pytest.param(
        make_ole2("\x05SummaryInformation", "1Table", "WordDocument"),
        "application/msword",
        "office",
        id="doc",
    ),
    pytest.param(make_ole2("Workbook", major=4), "application/vnd.ms-excel", "office", id="xls-v4"),
    pytest.param(make_ole2("Book"), "application/vnd.ms-excel", "office", id="xls-excel95"),
    pytest.param(
        make_ole2("Current User", "PowerPoint Document"),
        "application/vnd.ms-powerpoint",
        "office",
        id="ppt",
    ),
]


@pytest.mark.parametrize(("data", "mime", "kind"), ACCEPTED)
def test_each_allowed_type_is_stored_under_its_hashed_path_with_identical_bytes(
    store: EvidenceStore, data: bytes, mime: str, kind: str
) -> None:
    blob = store.store(data)

    sha = hashlib.sha256(data).hexdigest()
    assert blob == StoredBlob(sha256=sha, size=len(data), mime=mime, kind=kind)
    path = store.root / sha[0:2] / sha[2:4] / sha
    assert store.path_for(sha) == path
    assert path.read_bytes() == data
    assert all_files(store.root) == [path]


@pytest.mark.parametrize(("data", "mime", "kind"), ACCEPTED)
def test_a_binary_stream_is_accepted_like_bytes(
    store: EvidenceStore, data: bytes, mime: str, kind: str
) -> None:
    blob = store.store(io.BytesIO(data))

    assert (blob.mime, blob.kind, blob.size) == (mime, kind, len(data))
    with store.open(blob.sha256) as f:
        assert f.read() == data


def test_an_uploaded_file_object_is_read_from_disk_and_stored(
    store: EvidenceStore, tmp_path: Path
) -> None:
    source = tmp_path / "整改后照片.png"
    source.write_bytes(make_png())

    with source.open("rb") as f:
        blob = store.store(f)

    assert blob.mime == "image/png"
    assert store.path_for(blob.sha256).read_bytes() == make_png()


def test_a_stream_that_returns_short_reads_is_stored_completely(store: EvidenceStore) -> None:
    data = make_pdf() + b"%" * (3 * CHUNK_SIZE)

    class TrickleStream:
        def read(self, size: int = -1) -> bytes:
            piece, self.rest = self.rest[:7], self.rest[7:]
            return piece

    stream = TrickleStream()
    stream.rest = data
    blob = store.store(stream)  # type: ignore[arg-type]

    assert blob.size == len(data)
    assert blob.sha256 == hashlib.sha256(data).hexdigest()


def test_the_store_creates_its_root_and_tmp_folder_on_demand(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet" / "there"
    store = EvidenceStore(root)
    assert not root.exists()

    store.store(make_png())

    assert (root / "tmp").is_dir()
    assert list((root / "tmp").iterdir()) == []


def test_blobs_are_written_with_mode_0640(store: EvidenceStore) -> None:
    blob = store.store(make_jpeg())

    assert stat.S_IMODE(store.path_for(blob.sha256).stat().st_mode) == 0o640


def test_the_default_size_limit_is_20_mib(tmp_path: Path) -> None:
    assert EvidenceStore(tmp_path).max_bytes == DEFAULT_MAX_BYTES == 20 * 1024 * 1024


def test_a_non_positive_size_limit_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        EvidenceStore(tmp_path, max_bytes=0)


# --- deduplication ----------------------------------------------------------------------


def test_storing_the_same_content_twice_gives_one_blob(store: EvidenceStore) -> None:
    docx = make_docx()
    first = store.store(docx)
    second = store.store(io.BytesIO(docx))

    assert first == second
    assert all_files(store.root) == [store.path_for(first.sha256)]
    assert list(store.tmp_dir.iterdir()) == []


def test_different_content_gives_different_blobs(store: EvidenceStore) -> None:
    a = store.store(make_png())
    b = store.store(make_gif())

    assert a.sha256 != b.sha256
    assert len(all_files(store.root)) == 2


# --- size limit -------------------------------------------------------------------------


class GeneratorStream:
    """A binary stream fed by a generator; counts how many bytes were handed out."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""
        self.served = 0

    def read(self, size: int = -1) -> bytes:
        if not self._pending:
            self._pending = next(self._chunks, b"")
        if size < 0:
            raise AssertionError("the store must never ask for the whole stream")
        piece, self._pending = self._pending[:size], self._pending[size:]
        self.served += len(piece)
        return piece


def endless_png() -> Iterator[bytes]:
    yield make_png()
    while True:
        yield b"\0" * 10_000


def test_an_endless_stream_is_refused_as_too_large_after_reading_just_past_the_limit(
    tmp_path: Path,
) -> None:
    store = EvidenceStore(tmp_path / "evidence", max_bytes=50_000)
    stream = GeneratorStream(endless_png())

    with pytest.raises(EvidenceRejected) as caught:
        store.store(stream)  # type: ignore[arg-type]

    assert caught.value.code == "evidence_too_large"
    assert caught.value.fields == {"file": caught.value.message}
    assert stream.served == 50_001
    assert all_files(store.root) == []
    assert list(store.tmp_dir.iterdir()) == []


@pytest.mark.parametrize("wrap", [bytes, io.BytesIO], ids=["bytes", "bytesio"])
def test_input_one_byte_over_the_limit_is_refused_and_leaves_no_file(
    tmp_path: Path, wrap: type
) -> None:
    data = make_pdf()
    store = EvidenceStore(tmp_path / "evidence", max_bytes=len(data) - 1)

    with pytest.raises(EvidenceRejected) as caught:
        store.store(wrap(data))

    assert caught.value.code == "evidence_too_large"
    assert caught.value.as_dict()["max_bytes"] == len(data) - 1
    assert all_files(store.root) == []
    assert list(store.tmp_dir.iterdir()) == []


def test_input_of_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    data = make_pdf()
    store = EvidenceStore(tmp_path / "evidence", max_bytes=len(data))

    assert store.store(data).size == len(data)


def test_a_large_file_spanning_many_chunks_is_hashed_correctly(store: EvidenceStore) -> None:
    data = make_pdf() + bytes(range(256)) * (5 * CHUNK_SIZE // 256 + 3)

    blob = store.store(io.BytesIO(data))

    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert store.path_for(blob.sha256).read_bytes() == data


# --- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("empty", [b"", io.BytesIO(b"")], ids=["bytes", "stream"])
def test_empty_input_is_refused(store: EvidenceStore, empty: bytes | io.BytesIO) -> None:
    with pytest.raises(EvidenceRejected) as caught:
        store.store(empty)

    assert caught.value.code == "evidence_empty"
    assert "file" in caught.value.fields
    assert all_files(store.root) == []


REFUSED = [
    pytest.param(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", id="html"),
    pytest.param(
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
        b"<script>alert(document.cookie)</script></svg>",
        id="svg",
    ),
    pytest.param(
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\0" * 44 + b"PE\0\0",
        id="windows-exe",
    ),
    pytest.param(b"\x7fELF\x02\x01\x01\x00" + b"\0" * 56, id="elf"),
    pytest.param("村道路灯已修复，群众满意。\n".encode(), id="plain-text"),
    pytest.param(make_zip({"photo.jpg": "not really", "readme.txt": "hi"}), id="zip"),
    pytest.param(make_zip({"[Content_Types].xml": "<Types/>", "x/y.xml": "<a/>"}), id="zip-ct"),
    pytest.param(
        make_zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<a/>"}),
        id="odt",
    ),
    pytest.param(b"PK\x05\x06" + b"\0" * 18, id="empty-zip"),
    pytest.param(b"PK\x03\x04" + b"garbage" * 10, id="broken-zip"),
    pytest.param(b"Rar!\x1a\x07\x01\x00" + b"\0" * 20, id="rar"),
    pytest.param(b"\x1f\x8b\x08\x00" + b"\0" * 20, id="gzip"),
    pytest.param(b"BM" + b"\0" * 60, id="bmp"),
    pytest.param(make_isobmff(b"avif", b"avif", b"mif1", b"miaf"), id="avif"),
    pytest.param(make_isobmff(b"mif1", b"mif1", b"avif"), id="avif-mif1"),
    pytest.param(make_isobmff(b"isom", b"isom", b"mp41"), id="mp4-video"),
    pytest.param(make_ole2("\x05SummaryInformation"), id="ole2-not-office-eg-msi"),
    pytest.param(make_ole2(), id="ole2-empty"),
    pytest.param(make_ole2("WordDocument")[:512], id="ole2-header-only"),
    pytest.param(b"%!PS-Adobe-3.0\n", id="postscript"),
]


@pytest.mark.parametrize("data", REFUSED)
def test_refused_types_are_refused_even_when_named_photo_jpg(
    store: EvidenceStore, tmp_path: Path, data: bytes
) -> None:
    upload = tmp_path / "photo.jpg"
    upload.write_bytes(data)

    with upload.open("rb") as f, pytest.raises(EvidenceRejected) as caught:
        store.store(f)

    assert caught.value.code == "evidence_type_refused"
    assert caught.value.fields == {"file": caught.value.message}
    assert all_files(store.root) == []
    assert list(store.tmp_dir.iterdir()) == []


def test_a_refusal_is_a_validation_error(store: EvidenceStore) -> None:
    with pytest.raises(ValidationError):
        store.store(b"hello")


def test_text_and_other_objects_are_a_programming_error(store: EvidenceStore) -> None:
    with pytest.raises(TypeError):
        store.store("not bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.store(io.StringIO("a text stream"))  # type: ignore[arg-type]
    assert all_files(store.root) == []


# --- lookup -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "tmp",
        "abc123",
        "",
        "A" * 64,
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
        "g" * 64,
        "../" + "a" * 61,
    ],
)
def test_path_for_refuses_anything_but_a_lowercase_hex_digest(
    store: EvidenceStore, key: str
) -> None:
    store.store(make_png())

    with pytest.raises(NotFound):
        store.path_for(key)
    with pytest.raises(NotFound):
        store.open(key)


def test_path_for_an_unknown_digest_is_not_found(store: EvidenceStore) -> None:
    with pytest.raises(NotFound):
        store.path_for(hashlib.sha256(b"never stored").hexdigest())


def test_an_uppercase_spelling_of_a_stored_digest_is_not_found(store: EvidenceStore) -> None:
    blob = store.store(make_png())

    with pytest.raises(NotFound):
        store.path_for(blob.sha256.upper())


def test_open_returns_the_stored_bytes(store: EvidenceStore) -> None:
    blob = store.store(make_pdf())

    with store.open(blob.sha256) as f:
        assert f.read() == make_pdf()


# --- display names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../x.jpg", "x.jpg"),
        ("..\\..\\windows\\x.jpg", "x.jpg"),
        ("C:\\Users\\书记\\Desktop\\整改前.jpg", "整改前.jpg"),
        ("/etc/passwd", "passwd"),
        ("整改后照片.jpg", "整改后照片.jpg"),
        ("村委会 2024年 第3期.pdf", "村委会 2024年 第3期.pdf"),
        ("evil\x00name\r\n.jpg", "evilname.jpg"),
        ("bell\x07\x1b[31mred.png", "bell[31mred.png"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        ("  lots \t of   space  .docx ", "lots of space .docx"),
        ('a<b>c:"d"|e?f*.png', "a_b_c__d__e_f_.png"),
        ("", "file"),
        (None, "file"),
        ("..", "file"),
        ("dir/", "file"),
        ("\x00\x01\x02", "file"),
    ],
)
def test_safe_display_name_reduces_names_to_a_harmless_string(raw: str | None, shown: str) -> None:
    assert safe_display_name(raw) == shown


def test_safe_display_name_limits_length_to_200_and_keeps_the_extension() -> None:
    shown = safe_display_name("长" * 500 + ".jpeg")

    assert len(shown) == 200
    assert shown.endswith(".jpeg")
    assert shown.startswith("长长长")


def test_safe_display_name_truncates_names_without_an_extension() -> None:
    assert safe_display_name("x" * 300) == "x" * 200
