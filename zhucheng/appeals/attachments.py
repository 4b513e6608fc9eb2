"""Appeal attachments (附件): accept only real images (JPEG, PNG, GIF, WebP) and PDF files, store them safely.

The type is decided by the file's content, never by its name or the browser's claim: images
are decoded with Pillow, PDFs must carry the ``%PDF-`` header and an ``%%EOF`` trailer. Anything
else is refused with a message that says what the file really is where we can tell (a renamed
program, a web page, an SVG). Stored files get a random name (uuid + the sniffed extension) in the
default storage under ``MEDIA_ROOT``, which is outside the web root; pages serve them only
through a scope-checked view using ``open_for_download``.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image

from .errors import AppealError
from .models import Appeal, Attachment

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "ValidatedUpload",
    "download_name",
    "max_bytes",
    "max_count",
    "open_for_download",
    "store",
    "validate_count",
    "validate_upload",
    "validate_uploads",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_COUNT = 9
MAX_SIDE = 12_000
# A decoded image costs about 4 bytes a pixel; 50 MP still admits a 48 MP phone photo.
DEFAULT_MAX_PIXELS = 50_000_000
_HEAD = 4096
_PDF_TAIL = 1024
_NAME_MAX = 200

# content type → (stored extension, Pillow format name or "" for PDF, extensions a download may keep)
_TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "image/jpeg": ("jpg", "JPEG", (".jpg", ".jpeg", ".jpe", ".jfif")),
    "image/png": ("png", "PNG", (".png",)),
    "image/gif": ("gif", "GIF", (".gif",)),
    "image/webp": ("webp", "WEBP", (".webp",)),
    "application/pdf": ("pdf", "", (".pdf",)),
}
ALLOWED_CONTENT_TYPES = frozenset(_TYPES)
# Windows refuses these in file names; a download named with them would be renamed or fail.
_UNSAFE_NAME_CHARS = str.maketrans(dict.fromkeys('<>:"|?*', "_"))


@dataclass(frozen=True)
class ValidatedUpload:
    """An upload that passed ``validate_upload``: what it really is, and the file to store."""

    file: Any  # the uploaded file, rewound by ``store``
    original_name: str
    content_type: str
    extension: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None


def max_bytes() -> int:
    return int(getattr(settings, "ZHUCHENG_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_count() -> int:
    return int(getattr(settings, "ZHUCHENG_ATTACHMENT_MAX_COUNT", DEFAULT_MAX_COUNT))


def _max_pixels() -> int:
    return int(getattr(settings, "ZHUCHENG_ATTACHMENT_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


# --- sniffing ---------------------------------------------------------------------------------


def _sniff_accepted(head: bytes) -> str | None:
    """The content type of an accepted format from the first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _describe_refused(head: bytes) -> str:
    """What a refused file is, in words a resident understands ("" when we cannot tell)."""
    if not head:
        return _("空文件")
    if head.startswith(b"MZ"):
        return _("可执行文件（Windows 程序）")
    if head.startswith(b"\x7fELF"):
        return _("可执行文件（Linux 程序）")
    if head[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        return _("可执行文件（macOS 程序）")
    if head.startswith(b"#!"):
        return _("脚本文件")
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"hevc"):
        return _("HEIC 格式照片，请在手机相机设置中选择“兼容性最佳”或转换为 JPEG 后再上传")
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return _("视频文件")
    if head.startswith((b"BM", b"II*\x00", b"MM\x00*")):
        return _("BMP 或 TIFF 图片，请转换为 JPEG 或 PNG 后再上传")
    if head.startswith(b"PK\x03\x04"):
        return _("压缩包或 Office 文档")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return _("Office 文档")
    if head.startswith((b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")):
        return _("压缩包")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text:
        return _("SVG 矢量图（可能包含脚本）")
    if text.startswith((b"<!doctype html", b"<html")) or any(tag in text for tag in (b"<script", b"<body", b"<head", b"<iframe")):
        return _("网页（HTML）文件")
    if text.startswith(b"<?xml"):
        return _("XML 文件")
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return ""
        return _("文本文件")
    return ""


def clean_original_name(name: Any, extension: str) -> str:
    """The client's file name made safe to show and to offer on download (≤ 200 characters).

    Drops any directory part, control and bidi-override characters (``photo\\u202egpj.exe``) and
    characters Windows refuses; an empty result becomes ``附件.<ext>``.
    """
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = text.translate(_UNSAFE_NAME_CHARS).strip().strip(".").strip()
    if not text:
        return f"{_('附件')}.{extension}"
    if len(text) > _NAME_MAX:
        stem, ext = os.path.splitext(text)
        ext = ext[:20]
        text = stem[: _NAME_MAX - len(ext)] + ext
    return text


def _display_name(name: Any) -> str:
    text = clean_original_name(name, "")
    return text[:60] + ("…" if len(text) > 60 else "")


# --- validation -------------------------------------------------------------------------------


def _read_all(f: Any, limit: int) -> tuple[int, str, bytes]:
    """(size, sha256, first bytes); stops as soon as the file is larger than ``limit``."""
    f.seek(0)
    digest = hashlib.sha256()
    size = 0
    head = b""
    chunks = f.chunks() if hasattr(f, "chunks") else iter(lambda: f.read(64 * 1024), b"")
    for chunk in chunks:
        if len(head) < _HEAD:
            head += chunk[: _HEAD - len(head)]
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
    return size, digest.hexdigest(), head


def _too_big(name: str, size: int | None, limit: int) -> AppealError:
    if size is None:
        message = _("“%(name)s”超过了 %(limit)s MB 的上限。") % {"name": name, "limit": _megabytes(limit)}
    else:
        message = _("“%(name)s”有 %(size)s MB，超过了 %(limit)s MB 的上限。") % {
            "name": name,
            "size": _megabytes(size),
            "limit": _megabytes(limit),
        }
    return AppealError(message, code="file_size", field="attachments")


def _refuse_type(name: str, what: str) -> AppealError:
    if what:
        message = _("“%(name)s”不是图片或 PDF 文件（检测到%(what)s）。只能上传 JPEG、PNG、GIF、WebP 图片或 PDF 文件。") % {
            "name": name,
            "what": what,
        }
    else:
        message = _("“%(name)s”不是图片或 PDF 文件。只能上传 JPEG、PNG、GIF、WebP 图片或 PDF 文件。") % {"name": name}
    return AppealError(message, code="file_type", field="attachments")


def _damaged(name: str, kind: str) -> AppealError:
    return AppealError(
        _("“%(name)s”看起来是 %(kind)s 文件，但内容已损坏或不完整，无法打开。请重新导出或拍摄后再上传。")
        % {"name": name, "kind": kind},
        code="file_type",
        field="attachments",
    )


def _check_image(f: Any, name: str, pil_format: str) -> tuple[int, int]:
    """Decode the image with Pillow; refuse broken files and decompression bombs. Returns (width, height)."""
    max_pixels = _max_pixels()
    try:
        with warnings.catch_warnings():
            # Our own (lower) pixel cap decides; Pillow's bomb warning would only add noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            f.seek(0)
            with Image.open(f, formats=[pil_format]) as im:
                width, height = im.size
                if width > MAX_SIDE or height > MAX_SIDE or width * height > max_pixels:
                    raise AppealError(
                        _("“%(name)s”的图片尺寸过大（%(w)s×%(h)s 像素）。每边不能超过 %(side)s 像素，总像素不能超过 %(mp)s 百万。")
                        % {"name": name, "w": width, "h": height, "side": MAX_SIDE, "mp": max_pixels // 1_000_000},
                        code="file_size",
                        field="attachments",
                    )
                im.verify()
            # verify() leaves the image unusable; decode a fresh one to find truncated data.
            f.seek(0)
            with Image.open(f, formats=[pil_format]) as im:
                if pil_format == "JPEG":
                    # Decoding at 1/8 scale still reads every byte of the stream, with 1/64 of the memory.
                    im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                if pil_format != "PNG":  # PNG's verify() already checked every chunk's CRC
                    im.load()
    except AppealError:
        raise
    except Image.DecompressionBombError:
        raise AppealError(
            _("“%(name)s”的图片尺寸过大，无法处理。") % {"name": name}, code="file_size", field="attachments"
        ) from None
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError, EOFError … for broken files
        raise _damaged(name, pil_format) from None
    return width, height


def _check_pdf(f: Any, name: str, size: int) -> None:
    f.seek(max(0, size - _PDF_TAIL))
    tail = f.read(_PDF_TAIL)
    if b"%%EOF" not in tail:
        raise _damaged(name, "PDF")


def validate_upload(f: UploadedFile | File[Any]) -> ValidatedUpload:
    """Check one uploaded file: size, then the real type from its content. Raises AppealError.

    Codes: ``file_size`` (over ``ZHUCHENG_ATTACHMENT_MAX_BYTES``, default 10 MiB, or an image
    over 12,000 px a side / the pixel cap), ``file_type`` (not a JPEG/PNG/GIF/WebP image or PDF,
    or a damaged one).
    """
    name = _display_name(getattr(f, "name", ""))
    limit = max_bytes()
    declared = getattr(f, "size", None)
    if declared is not None and declared > limit:
        raise _too_big(name, declared, limit)
    size, sha256, head = _read_all(f, limit)
    if size > limit:
        raise _too_big(name, None, limit)
    content_type = _sniff_accepted(head)
    if content_type is None:
        raise _refuse_type(name, _describe_refused(head))
    extension, pil_format, _keep = _TYPES[content_type]
    width = height = None
    if pil_format:
        width, height = _check_image(f, name, pil_format)
    else:
        _check_pdf(f, name, size)
    f.seek(0)
    return ValidatedUpload(
        file=f,
        original_name=clean_original_name(getattr(f, "name", ""), extension),
        content_type=content_type,
        extension=extension,
        size=size,
        sha256=sha256,
        width=width,
        height=height,
    )


def validate_count(count: int, *, existing: int = 0) -> None:
    """Refuse more than ``ZHUCHENG_ATTACHMENT_MAX_COUNT`` (default 9) files on one appeal."""
    limit = max_count()
    if count + existing > limit:
        if existing:
            message = _("每件诉求最多 %(max)s 个附件；已有 %(existing)s 个，本次又选了 %(n)s 个。") % {
                "max": limit,
                "existing": existing,
                "n": count,
            }
        else:
            message = _("每件诉求最多 %(max)s 个附件，本次选了 %(n)s 个。") % {"max": limit, "n": count}
        raise AppealError(message, code="file_count", field="attachments")


def validate_uploads(files: list[Any] | tuple[Any, ...], *, existing: int = 0) -> list[ValidatedUpload]:
    """The count first (nothing is read when there are too many), then every file."""
    validate_count(len(files), existing=existing)
    return [validate_upload(f) for f in files]


# --- storage and download ---------------------------------------------------------------------


def store(*, appeal: Appeal, upload: ValidatedUpload, uploaded_by: Any, now: datetime) -> Attachment:
    """Save the file under a random name in the default storage and record it on the appeal."""
    attachment = Attachment(
        appeal=appeal,
        original_name=upload.original_name,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        uploaded_by=uploaded_by if getattr(uploaded_by, "is_authenticated", False) else None,
        uploaded_at=now,
    )
    content = upload.file if isinstance(upload.file, File) else File(upload.file)
    content.seek(0)
    # Never the client's name: it could collide, traverse directories or carry a misleading extension.
    attachment.file.save(f"{uuid.uuid4().hex}.{upload.extension}", content, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


def download_name(attachment: Attachment) -> str:
    """The name offered on download: the original name, with an extension that matches the content."""
    extension, _pil, keep = _TYPES.get(attachment.content_type, ("bin", "", ()))
    name = clean_original_name(attachment.original_name, extension)
    stem, ext = os.path.splitext(name)
    if ext.lower() not in keep:
        name = f"{(stem if ext else name) or _('附件')}.{extension}"
    return name


def open_for_download(attachment: Attachment) -> tuple[IO[bytes], str, str]:
    """(open binary handle, content type, file name) for the serving view.

    The caller checks that the user may see the appeal, and sends the file with
    ``Content-Disposition`` and ``X-Content-Type-Options: nosniff``. A content type outside the
    accepted list (a row edited by hand) is served as ``application/octet-stream``.
    """
    content_type = attachment.content_type if attachment.content_type in ALLOWED_CONTENT_TYPES else "application/octet-stream"
    try:
        handle = attachment.file.storage.open(attachment.file.name, "rb")
    except (FileNotFoundError, ValueError):
        raise AppealError(_("附件文件不存在或已被清理。"), code="not_found", field="attachments") from None
    return handle, content_type, download_name(attachment)
