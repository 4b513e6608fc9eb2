"""The exchange pages: upload runs a batch (progress, summary, error report download), the review
page shows the pair and the waterfall and decides with one submit, the provenance page undoes a
merge, the reports render; every page is scoped (missing and forbidden both 404)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from zhucheng.core.models import AuditEvent
from zhucheng.exchange.models import ImportBatch, MergeEvent, RecordState, ReviewItem, ReviewState, SourceRecord

from .conftest import bad_check, csv_bytes, make_id, row, run

pytestmark = pytest.mark.django_db

NEW = make_id(date(1992, 4, 18), 41)


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, feed: Any, data: bytes, name: str = "gaj.csv") -> Any:
    return client.post(reverse("exchange:feed_upload", args=[feed.pk]), {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_upload_runs_a_batch_and_offers_the_error_report(ex: Any, fake_linkage: Any) -> None:
    client = as_user(ex.city.handler)  # the sending department's handler
    home = client.get(reverse("exchange:home"))
    assert home.status_code == 200 and ex.feed.name in home.content.decode()
    assert client.get(reverse("exchange:feed_upload", args=[ex.feed.pk])).status_code == 200
    data = csv_bytes([row("赵磊", NEW), row("钱芳", bad_check(make_id(date(1988, 1, 2), 52, male=False)))])
    response = _upload(client, ex.feed, data)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exchange:batch_detail", args=[batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert "校验位" in page and "下载错误报告" in page
    progress = client.get(reverse("exchange:batch_progress", args=[batch.pk]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and progress["HX-Refresh"] == "true" and "hx-trigger" not in progress.content.decode()
    report = client.get(reverse("exchange:batch_errors", args=[batch.pk]))
    assert report["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(report.content)).active.iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[3]) for r in rows] == [(2, "id_checksum")]
    assert AuditEvent.objects.filter(act="exchange.errors_download").exists()
    again = _upload(client, ex.feed, data, "again.csv")
    assert again["Location"] == reverse("exchange:batch_detail", args=[batch.pk]) and ImportBatch.objects.count() == 1


def test_running_batch_polls_for_progress(ex: Any, fake_linkage: Any) -> None:
    from zhucheng.exchange import services

    batch = services.batch_receive(actor=None, feed=ex.feed, file_name="x.csv", data=csv_bytes([row("赵磊", NEW)]))
    page = as_user(ex.city.handler).get(reverse("exchange:batch_detail", args=[batch.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page


def test_batches_and_uploads_are_scoped(ex: Any, fake_linkage: Any) -> None:
    batch = run(ex.feed, csv_bytes([row("赵磊", NEW)]))
    outsider = as_user(ex.city.worker_b)  # community B: the feed's unit is grid A
    assert outsider.get(reverse("exchange:batch_detail", args=[batch.pk])).status_code == 404
    assert outsider.get(reverse("exchange:batch_errors", args=[batch.pk])).status_code == 404
    assert outsider.get(reverse("exchange:feed_upload", args=[ex.feed.pk])).status_code == 404
    assert ex.feed.name not in outsider.get(reverse("exchange:home")).content.decode()


def _queued(ex: Any) -> ReviewItem:
    run(ex.feed, csv_bytes([row("王芳", make_id(ex.wang.birth_date, 77, male=False), born=ex.wang.birth_date.isoformat())]))
    return ReviewItem.objects.get()


def test_review_page_decides_with_one_submit(ex: Any, fake_linkage: Any) -> None:
    item = _queued(ex)
    client = as_user(ex.city.worker_a)
    queue = client.get(reverse("exchange:review_queue")).content.decode()
    assert reverse("exchange:review_detail", args=[item.pk]) in queue and "精确率" in queue
    page = client.get(reverse("exchange:review_detail", args=[item.pk])).content.decode()
    assert "full_name" in page and 'data-key="a"' in page and 'data-key="r"' in page and "review.js" in page
    assert ex.wang.id_number not in page  # identifiers masked
    response = client.post(reverse("exchange:review_detail", args=[item.pk]), {"decision": "accept"})
    assert response.status_code == 302 and response["Location"] == reverse("exchange:review_queue")
    item.refresh_from_db()
    assert item.state == ReviewState.ACCEPTED and SourceRecord.objects.get(pk=item.record_id).state == RecordState.MERGED


def test_review_is_scoped(ex: Any, fake_linkage: Any) -> None:
    item = _queued(ex)
    outsider = as_user(ex.city.worker_b)
    assert outsider.get(reverse("exchange:review_detail", args=[item.pk])).status_code == 404
    assert outsider.post(reverse("exchange:review_detail", args=[item.pk]), {"decision": "accept"}).status_code == 404
    assert str(item.record.name) not in outsider.get(reverse("exchange:review_queue")).content.decode()
    item.refresh_from_db()
    assert item.state == ReviewState.PENDING


def test_provenance_page_and_unmerge(ex: Any, fake_linkage: Any) -> None:
    run(ex.feed, csv_bytes([row("张伟", ex.zhang.id_number, phone="13811112222")]))
    event = MergeEvent.objects.get()
    client = as_user(ex.city.worker_a)
    page = client.get(reverse("exchange:person_provenance", args=[ex.zhang.pk])).content.decode()
    assert ex.feed.name in page and "补充空缺" in page and "撤销合并" in page
    assert "13811112222" not in page
    assert client.post(reverse("exchange:merge_undo", args=[event.pk]), {"reason": ""}).status_code == 302
    event.refresh_from_db()
    assert event.undone_at is None
    client.post(reverse("exchange:merge_undo", args=[event.pk]), {"reason": "误合并"})
    event.refresh_from_db()
    assert event.undone_at is not None
    ex.zhang.refresh_from_db()
    assert ex.zhang.phone == ""
    assert as_user(ex.city.worker_b).get(reverse("exchange:person_provenance", args=[ex.zhang.pk])).status_code == 404


def test_reports_page(ex: Any, fake_linkage: Any) -> None:
    run(ex.feed, csv_bytes([row("赵磊", NEW), row("坏", bad_check(NEW))]))
    client = as_user(ex.city.handler)
    today = timezone.localdate()
    page = client.get(reverse("exchange:reports"), {"day": today.isoformat(), "month": f"{today:%Y-%m}"}).content.decode()
    assert "日交换" in page and "月调度" in page and (ex.city.department.short_name or ex.city.department.name) in page and "ex-chart-data" in page
    assert client.get(reverse("exchange:reports"), {"month": "2026-13"}).status_code == 200
