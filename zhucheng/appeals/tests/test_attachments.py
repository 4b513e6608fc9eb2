"""Attachments: only real images and PDFs get in (type from content), size and count are capped, names are random."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from zhucheng.appeals import attachments
from zhucheng.appeals.errors import AppealError
from zhucheng.appeals.models import Appeal, Attachment


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 1).save(buf, format=fmt)
    return buf.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    # The browser's claimed type is deliberately wrong: it must not matter.
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def appeal(city: Any) -> Appeal:
    return Appeal.objects.create(
        code="GY2026-0000001",
        channel="portal",
        title="路灯不亮",
        description="小区门口路灯坏了",
        unit=city.grid_a,
        submitted_at=timezone.now(),
    )


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type", "ext"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("GIF", "image/gif", "gif"), ("WEBP", "image/webp", "webp")],
)
def test_real_images_are_accepted_with_the_sniffed_type(fmt: str, content_type: str, ext: str) -> None:
    data = image_bytes(fmt)
    result = attachments.validate_upload(upload("现场照片.dat", data))
    assert result.content_type == content_type
    assert result.extension == ext
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert (result.width, result.height) == (40, 30)
    assert result.original_name == "现场照片.dat"


def test_pdf_is_accepted() -> None:
    result = attachments.validate_upload(upload("材料.pdf", PDF))
    assert result.content_type == "application/pdf" and result.extension == "pdf"


def test_store_uses_a_random_name_and_keeps_the_original_for_display(appeal: Appeal, media: Path, city: Any) -> None:
    data = image_bytes("PNG")
    validated = attachments.validate_upload(upload("../../etc/照片.png", data))
    now = timezone.now()
    stored = attachments.store(appeal=appeal, upload=validated, uploaded_by=city.worker_a, now=now)

    stored.refresh_from_db()
    assert stored.original_name == "照片.png"  # no directory part survives
    name = Path(stored.file.name)
    assert name.parts[0] == "appeals" and name.suffix == ".png"
    assert len(name.stem) == 32 and "照片" not in stored.file.name and ".." not in stored.file.name
    on_disk = media / stored.file.name
    assert on_disk.read_bytes() == data
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert stored.content_type == "image/png" and stored.uploaded_by == city.worker_a and stored.uploaded_at == now

    handle, content_type, filename = attachments.open_for_download(stored)
    with handle:
        assert handle.read() == data
    assert content_type == "image/png" and filename == "照片.png"

    second = attachments.store(appeal=appeal, upload=attachments.validate_upload(upload("照片.png", data)), uploaded_by=None, now=now)
    assert second.file.name != stored.file.name  # the same client name never collides


def test_download_name_gets_the_extension_of_the_real_content(appeal: Appeal, media: Path) -> None:
    validated = attachments.validate_upload(upload("scan.exe", image_bytes("PNG")))
    stored = attachments.store(appeal=appeal, upload=validated, uploaded_by=None, now=timezone.now())
    assert attachments.open_for_download(stored)[2] == "scan.png"
    stored.content_type = "text/html"  # a row edited by hand is never served as a web page
    assert attachments.open_for_download(stored)[1] == "application/octet-stream"


def test_download_of_a_missing_file_is_a_clear_error(appeal: Appeal, media: Path) -> None:
    stored = attachments.store(
        appeal=appeal, upload=attachments.validate_upload(upload("a.pdf", PDF)), uploaded_by=None, now=timezone.now()
    )
    (media / stored.file.name).unlink()
    with pytest.raises(AppealError) as exc:
        attachments.open_for_download(stored)
    assert exc.value.code == "not_found"


# --- refused types ----------------------------------------------------------------------------


def refused(name: str, content: bytes) -> AppealError:
    with pytest.raises(AppealError) as exc:
        attachments.validate_upload(upload(name, content))
    assert exc.value.field == "attachments"
    return exc.value


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "可执行文件"),
        ("photo.jpg", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "可执行文件"),
        ("photo.png", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "网页"),
        ("logo.jpg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "SVG"),
        ("photo.jpg", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
        ("photo.jpg", b"", "空文件"),
    ],
)
def test_disguised_files_are_refused_naming_what_they_are(name: str, content: bytes, what: str) -> None:
    error = refused(name, content)
    assert error.code == "file_type"
    assert f"“{name}”" in error.message and "不是图片或 PDF 文件" in error.message
    assert what in error.message


def test_unknown_binary_is_refused() -> None:
    error = refused("x.jpg", bytes(range(256)) * 4)
    assert error.code == "file_type" and "“x.jpg”" in error.message


def test_truncated_png_is_refused() -> None:
    data = image_bytes("PNG", (64, 64))
    error = refused("photo.png", data[: len(data) // 2])
    assert error.code == "file_type" and "损坏" in error.message


def test_truncated_jpeg_is_refused() -> None:
    buf = io.BytesIO()
    Image.effect_noise((256, 256), 60).convert("RGB").save(buf, format="JPEG", quality=95)
    data = buf.getvalue()
    error = refused("photo.jpg", data[: len(data) // 2])
    assert error.code == "file_type" and "损坏" in error.message


def test_jpeg_header_with_garbage_is_refused() -> None:
    error = refused("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 500)
    assert error.code == "file_type"


def test_pdf_without_trailer_is_refused() -> None:
    error = refused("材料.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\n")
    assert error.code == "file_type" and "PDF" in error.message


# --- size, dimensions, count ------------------------------------------------------------------


def test_oversized_file_is_refused_with_the_limit(settings: Any) -> None:
    settings.ZHUCHENG_ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
    error = refused("big.pdf", PDF + b"\x00" * (3 * 1024 * 1024))
    assert error.code == "file_size" and "“big.pdf”" in error.message and "2 MB" in error.message


def test_size_limit_holds_when_the_declared_size_is_missing(settings: Any) -> None:
    settings.ZHUCHENG_ATTACHMENT_MAX_BYTES = 1000
    f = upload("big.pdf", PDF + b"\x00" * 5000)
    f.size = None  # a stream whose size nobody told us: counted while reading
    error = refused_file(f)
    assert error.code == "file_size"


def refused_file(f: Any) -> AppealError:
    with pytest.raises(AppealError) as exc:
        attachments.validate_upload(f)
    return exc.value


def test_default_limit_is_ten_megabytes(settings: Any) -> None:
    del settings.ZHUCHENG_ATTACHMENT_MAX_BYTES  # absent setting: the default applies
    assert attachments.max_bytes() == 10 * 1024 * 1024


def test_image_wider_than_the_side_limit_is_refused() -> None:
    error = refused("wide.png", image_bytes("PNG", (attachments.MAX_SIDE + 1, 1), mode="1"))
    assert error.code == "file_size" and "像素" in error.message


def test_pixel_cap(settings: Any) -> None:
    settings.ZHUCHENG_ATTACHMENT_MAX_PIXELS = 100
    assert refused("p.png", image_bytes("PNG", (20, 20))).code == "file_size"


def _png_with_claimed_size(width: int, height: int) -> bytes:
    """A tiny real PNG whose header claims huge dimensions: a decompression bomb's calling card."""
    data = bytearray(image_bytes("PNG", (1, 1)))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    assert refused("bomb.png", _png_with_claimed_size(11_000, 11_000)).code == "file_size"  # our pixel cap
    assert refused("bomb.png", _png_with_claimed_size(100_000, 100_000)).code == "file_size"  # Pillow's own guard


def test_at_most_nine_files_and_nothing_is_read_when_there_are_more() -> None:
    class Unreadable:
        name = "x.png"
        size = 10

        def read(self, *a: Any) -> bytes:
            raise AssertionError("must not be read")

    with pytest.raises(AppealError) as exc:
        attachments.validate_uploads([Unreadable() for _ in range(10)])
    assert exc.value.code == "file_count" and "9" in exc.value.message
    with pytest.raises(AppealError) as exc:
        attachments.validate_count(2, existing=8)
    assert exc.value.code == "file_count"
    attachments.validate_count(1, existing=8)
    assert len(attachments.validate_uploads([upload(f"{i}.pdf", PDF) for i in range(9)])) == 9


# --- names ------------------------------------------------------------------------------------


def test_original_name_is_cleaned() -> None:
    assert attachments.clean_original_name("C:\\Users\\张三\\照片.jpg", "jpg") == "照片.jpg"
    spoofed = attachments.clean_original_name("photo\u202egpj.exe", "png")
    assert "\u202e" not in spoofed and spoofed == "photogpj.exe"
    assert attachments.clean_original_name('a<b>:"c".pdf', "pdf") == "a_b___c_.pdf"
    assert attachments.clean_original_name("  ..  ", "png") == "附件.png"
    long = attachments.clean_original_name("长" * 300 + ".jpeg", "jpg")
    assert len(long) == 200 and long.endswith(".jpeg")
    assert Attachment._meta.get_field("original_name").max_length == 200
