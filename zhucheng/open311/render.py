"""One document, two formats: GeoReport XML and its JSON by the Spark convention.

A document is built once from plain values: ``dict`` (child elements in order), ``Items``
(a repeated child element: ``<services><service>…</service></services>`` in XML, a JSON
array in JSON), strings, numbers, booleans and ``None`` (an empty element / ``null``).
The spec's JSON drops a wrapper that only holds a list, so ``services``, ``service_requests``
and ``errors`` are top-level arrays and ``endpoints`` / ``formats`` / ``attributes`` arrays.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET  # noqa: S405 - we only build XML, never parse untrusted XML
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# Characters XML 1.0 cannot carry at all (a raw one makes the whole document unreadable).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Items:
    """A repeated element: ``Items("service", [...])``."""

    tag: str
    values: list[Any]


def w3(moment: datetime | None) -> str | None:
    """ISO 8601 (W3C profile) in Asia/Shanghai with its offset: ``2026-05-01T09:30:00+08:00``."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _json_value(value: Any) -> Any:
    if isinstance(value, Items):
        return [_json_value(v) for v in value.values]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return _XML_ILLEGAL.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Items):
        for item in value.values:
            _fill(ET.SubElement(element, value.tag), item)
    elif isinstance(value, dict):
        for tag, child in value.items():
            _fill(ET.SubElement(element, tag), child)
    else:
        element.text = _text(value)


def to_xml(root: str, document: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, document)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def to_json(document: Any) -> bytes:
    return json.dumps(_json_value(document), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_document(fmt: str, root: str, document: Any) -> bytes:
    """The document's bytes in ``fmt`` ("json", else XML under ``root``)."""
    return to_json(document) if fmt == "json" else to_xml(root, document)


def respond(fmt: str, root: str, document: Any, *, status: int = 200) -> HttpResponse:
    """The document in ``fmt`` ("xml" or "json") with the spec's content type."""
    body = render_document(fmt, root, document)
    return HttpResponse(body, status=status, content_type=FORMATS["json" if fmt == "json" else "xml"])


def errors(fmt: str, status: int, descriptions: list[str], *, code: int | str | None = None) -> HttpResponse:
    """The spec's error list: ``[{code, description}]`` / ``<errors><error>…``; ``code`` is the HTTP status."""
    document = Items("error", [{"code": code if code is not None else status, "description": d} for d in descriptions])
    return respond(fmt, "errors", document, status=status)
