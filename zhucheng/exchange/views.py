"""Exchange pages (thin): feeds and batches, upload with progress, the error report, the clerical
review queue (keys a / r), a person's provenance with unmerge, and the reports.

Reads through ``selectors``/``reports``, writes through ``services``/``merge``. Missing and
forbidden look the same (404).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhucheng.core.audit import audit_record
from zhucheng.places.selectors import NotVisible
from zhucheng.registry.standard_batch import IMPORT_COLUMNS

from . import feeds, merge, reports, selectors, services
from . import forms as f
from .errors import ExchangeError
from .models import ImportBatch
from .permissions import can_operate, can_review

PAGE_SIZE = 50


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged-in staff only; a resident account is refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "is_resident", False):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _get(getter: Callable[[Any, Any], Any], request: HttpRequest, pk: Any) -> Any:
    try:
        return getter(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该记录,或它不在您的管辖范围内。")) from exc


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    batches = list(selectors.batches_for(request.user)[:15])
    return render(
        request,
        "exchange/home.html",
        {
            "feeds": [(feed, can_operate(request.user, feed)) for feed in selectors.feeds_for(request.user)],
            "batches": batches,
            "backlog": selectors.review_backlog(request.user),
            "states": reports.record_states(request.user),
        },
    )


@staff_required
def feed_upload(request: HttpRequest, pk: int) -> HttpResponse:
    feed = _get(selectors.feed_get_for_user, request, pk)
    if not can_operate(request.user, feed):
        raise Http404
    form = f.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.batch_receive(actor=request.user, feed=feed, file_name=upload.name, data=upload.read())
        except ExchangeError as exc:
            if exc.code == "duplicate_file" and isinstance(exc.extra, ImportBatch):
                messages.warning(request, exc.message)
                return redirect("exchange:batch_detail", pk=exc.extra.pk)
            form.add_error("file", exc.message)
        else:
            from .tasks import process_batch_task

            process_batch_task.delay(batch.pk)
            messages.success(request, _("文件已接收,正在逐行校验并比对。"))
            return redirect("exchange:batch_detail", pk=batch.pk)
    mapping = [(column, target, IMPORT_COLUMNS.get(target, (feeds.EXTRA_FIELDS.get(target, ""),))[0]) for column, target in feed.mapping.items()]
    return render(request, "exchange/upload.html", {"feed": feed, "form": form, "mapping": mapping})


def _batch_context(batch: ImportBatch) -> dict[str, Any]:
    return {"batch": batch, "summary": selectors.batch_summary(batch)}


@staff_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _get(selectors.batch_get_for_user, request, pk)
    page = Paginator(selectors.batch_issues(batch), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "exchange/batch_detail.html", {**_batch_context(batch), "page": page, "reasons": selectors.batch_reasons(batch)})


@staff_required
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress panel (htmx polls it every second while the batch runs)."""
    batch = _get(selectors.batch_get_for_user, request, pk)
    response = render(request, "exchange/_progress.html", _batch_context(batch))
    if not batch.is_running and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # show the final page (issues, summary) once done
    return response


@staff_required
def batch_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """错误报告: the quarantined rows as an XLSX workbook (raw values included: the read is audited)."""
    batch = _get(selectors.batch_get_for_user, request, pk)
    issues = list(selectors.batch_issues(batch))
    data = feeds.issues_xlsx(issues, title=f"{batch.feed.name} · {batch.file_name} · {_('批次')} {batch.pk}")
    audit_record(actor=request.user, act="exchange.errors_download", obj=batch, changed_fields=["raw"], reason=f"{len(issues)} rows")
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="exchange-batch-{batch.pk}-errors.xlsx"'
    return response


@staff_required
def review_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.review_queue(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/review_queue.html",
        {"page": page, "precision": selectors.precision_at_thresholds(request.user), "auto": selectors.auto_merge_precision(request.user)},
    )


@staff_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _get(selectors.review_get_for_user, request, pk)
    form = f.ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_decide(actor=request.user, item=item, accept=form.cleaned_data["decision"] == "accept", note=form.cleaned_data["note"])
        except ExchangeError as exc:
            messages.error(request, exc.message)
            return redirect("exchange:review_detail", pk=item.pk)
        messages.success(request, _("已记录:是同一人。") if form.cleaned_data["decision"] == "accept" else _("已记录:不是同一人。"))
        following = selectors.review_next(request.user, after=item)
        return redirect("exchange:review_detail", pk=following.pk) if following else redirect("exchange:review_queue")
    left_title, right_title, rows = selectors.review_pair(request.user, item)
    if not item.waterfall:
        services.review_explain(item)
    total = sum(r["match_weight"] for r in item.waterfall) if item.waterfall else None
    scale = max([abs(r["match_weight"]) for r in item.waterfall] + [1.0])
    bars = [{**r, "width": round(100 * abs(r["match_weight"]) / scale)} for r in item.waterfall]
    return render(
        request,
        "exchange/review_detail.html",
        {
            "item": item,
            "form": form,
            "left_title": left_title,
            "right_title": right_title,
            "rows": rows,
            "bars": bars,
            "total": total,
            "can_decide": can_review(request.user, item.person.unit) and item.state == "pending",
            "remaining": selectors.review_queue(request.user).count(),
        },
    )


@staff_required
def person_provenance(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get(selectors.person_get_for_user, request, pk)
    prov = selectors.person_provenance(request.user, person)
    return render(request, "exchange/provenance.html", {"prov": prov, "person": person, "form": f.UnmergeForm(), "can_undo": can_review(request.user, person.unit)})


@staff_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    event = _get(selectors.merge_get_for_user, request, pk)
    form = f.UnmergeForm(request.POST)
    if form.is_valid():
        try:
            merge.unmerge(actor=request.user, event=event, reason=form.cleaned_data["reason"])
        except ExchangeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已撤销合并,人员信息已恢复。"))
    else:
        messages.error(request, _("请填写撤销理由。"))
    return redirect("exchange:person_provenance", pk=event.person_id)


@staff_required
def report_page(request: HttpRequest) -> HttpResponse:
    form = f.ReportForm(request.GET or None)
    today = timezone.localdate()
    day, ym = today, (today.year, today.month)
    if form.is_valid():
        day = form.cleaned_data.get("day") or today
        ym = form.cleaned_data.get("month") or (day.year, day.month)
    daily = reports.daily_summary(request.user, day)
    monthly = reports.monthly_dispatch(request.user, *ym)
    chart = {
        "days": [d.isoformat() for d, _r, _x in monthly.daily],
        "received": [r for _d, r, _x in monthly.daily],
        "rejected": [x for _d, _r, x in monthly.daily],
    }
    return render(
        request,
        "exchange/reports.html",
        {
            "form": form,
            "daily": daily,
            "monthly": monthly,
            "chart": chart,
            "precision": selectors.precision_at_thresholds(request.user),
            "auto": selectors.auto_merge_precision(request.user),
            "backlog": selectors.review_backlog(request.user),
        },
    )
