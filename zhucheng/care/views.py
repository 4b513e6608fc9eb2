"""Care pages (thin): the carer's list, enrolments (search, export, JSON), the enrolment page and its acts,
the phone-friendly visit form, overdue lists, referrals, metrics. Reads through ``selectors``/``metrics``,
writes through ``services``; every sensitive enrolment shown is audited; missing and forbidden look the same (404)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.accounts.models import User
from zhucheng.core.masking import mask_phone
from zhucheng.places.models import Membership, OrgUnit
from zhucheng.places.selectors import NotVisible, unit_roots_for, units_for

from . import access, metrics, selectors, services
from . import forms as f
from .errors import CareError
from .models import Enrolment, EnrolmentState, RiskLevel

PAGE_SIZE = 50


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged-in staff only; a resident account is refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "is_resident", False):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _enrolment_or_404(request: HttpRequest, pk: Any, *, purpose: str) -> Enrolment:
    try:
        enrolment = selectors.enrolment_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该关爱对象，或不在您的管辖范围内。")) from exc
    services.record_reads(actor=request.user, enrolments=[enrolment], purpose=purpose)
    return enrolment


def _apply_error(form: Any, exc: CareError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _unit_param(request: HttpRequest) -> OrgUnit | None:
    pk = request.GET.get("unit")
    if not pk:
        return None
    return units_for(request.user).filter(pk=pk).first()


# --- the carer's home ------------------------------------------------------------------------------


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    overdue = list(selectors.overdue_for_carer(user)[:100])
    soon = list(selectors.due_soon_for_carer(user)[:100])
    services.record_reads(actor=user, enrolments=overdue + soon, purpose="我的走访")
    review_due = list(selectors.enrolments_visible_to(user).filter(state=EnrolmentState.ACTIVE, carer=user, review_on__lte=timezone.localdate())[:50])
    services.record_reads(actor=user, enrolments=review_due, purpose="待复核")
    return render(request, "care/home.html", {"overdue": overdue, "soon": soon, "review_due": review_due, "today": timezone.localdate()})


# --- enrolments ------------------------------------------------------------------------------------


def _search(request: HttpRequest) -> Any:
    state = request.GET.get("state", "active")
    return selectors.enrolments_search(
        request.user, q=request.GET.get("q", ""), category_id=request.GET.get("category") or None, state=state,
        unit=_unit_param(request), risk=request.GET.get("risk", "") if request.GET.get("risk") in RiskLevel.values else "",
    )


@staff_required
def enrolment_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_search(request), PAGE_SIZE).get_page(request.GET.get("page"))
    services.record_reads(actor=request.user, enrolments=list(page.object_list), purpose="关爱对象检索")
    return render(
        request,
        "care/enrolment_list.html",
        {
            "page": page,
            "categories": access.categories_visible(request.user),
            "q": request.GET.get("q", ""),
            "category": request.GET.get("category", ""),
            "state": request.GET.get("state", "active"),
            "risk": request.GET.get("risk", ""),
            "risks": RiskLevel.choices,
            "today": timezone.localdate(),
            "query": request.GET.urlencode(),
        },
    )


EXPORT_HEADER = ["编号", "姓名", "类别", "所属网格", "状态", "风险等级", "责任人", "登记日期", "下次走访截止", "复核日期"]


def _export_rows(user: Any, qs: Any) -> Iterator[list[str]]:
    yield EXPORT_HEADER
    for chunk_start in range(0, 100_000, 1000):
        chunk = list(qs[chunk_start : chunk_start + 1000])
        if not chunk:
            break
        services.record_reads(actor=user, enrolments=chunk, purpose="关爱对象导出")
        for e in chunk:
            plan = getattr(e, "plan", None)
            yield [
                str(e.pk), e.person.name, e.category.name, e.unit.name, e.get_state_display(), e.get_risk_level_display(), e.carer_label,
                e.enrolled_on.isoformat(), plan.next_due_on.isoformat() if plan else "", e.review_on.isoformat(),
            ]


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_required
def enrolment_export(request: HttpRequest) -> StreamingHttpResponse:
    """CSV of the search (names, not ID numbers): only rows the user may read; sensitive rows audited."""
    from zhucheng.core.audit import audit_record

    audit_record(actor=request.user, act="care.export", reason=request.GET.urlencode()[:500])
    writer = csv.writer(_Echo())
    rows = (writer.writerow(r) for r in _export_rows(request.user, _search(request)))
    response = StreamingHttpResponse(_with_bom(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="care-enrolments.csv"'
    return response


def _with_bom(rows: Iterator[str]) -> Iterator[str]:
    yield "\ufeff"
    yield from rows


@staff_required
def enrolment_api(request: HttpRequest) -> JsonResponse:
    """JSON of the search (``?q=&category=&state=&unit=``): the same rows as the page, paged by 50."""
    page = Paginator(_search(request), PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    services.record_reads(actor=request.user, enrolments=items, purpose="关爱对象接口")
    return JsonResponse(
        {
            "count": page.paginator.count,
            "page": page.number,
            "results": [
                {
                    "id": e.pk, "person": e.person.name, "person_id": e.person_id, "category": e.category.code, "unit": e.unit.code,
                    "state": e.state, "risk_level": e.risk_level, "next_due_on": e.plan.next_due_on.isoformat() if hasattr(e, "plan") else None,
                }
                for e in items
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@staff_required
def person_enrolments_api(request: HttpRequest, person_id: int) -> JsonResponse:
    """The enrolments of one registry person the user may know of (the registry page's hook, as JSON)."""
    from zhucheng.registry.selectors import person_get_for_user

    try:
        person = person_get_for_user(request.user, person_id)
    except NotVisible as exc:
        raise Http404 from exc
    items = selectors.enrolments_for_person(request.user, person)
    services.record_reads(actor=request.user, enrolments=items, purpose="人员关爱情况")
    return JsonResponse({"results": [{"id": e.pk, "category": e.category.name, "state": e.state} for e in items]}, json_dumps_params={"ensure_ascii": False})


@staff_required
def person_pick(request: HttpRequest) -> HttpResponse:
    """登记第一步: find the registry person by name."""
    from zhucheng.registry.selectors import persons_search_name

    q = request.GET.get("q", "").strip()
    persons = persons_search_name(request.user, q, limit=30) if q else []
    return render(request, "care/person_pick.html", {"q": q, "persons": persons})


def _carers_for(unit: OrgUnit) -> list[tuple[int, str]]:
    """Staff with a post on the unit or an ancestor (the carer must be able to reach the person)."""
    paths = [p for p in unit.path.split("/") if p]
    prefixes = ["/" + "/".join(paths[: i + 1]) + "/" for i in range(len(paths))]
    users = User.objects.filter(
        pk__in=Membership.objects.active().filter(unit__path__in=prefixes).values("user_id"), is_active=True
    ).order_by("username")[:200]
    return [(u.pk, u.display_name or u.username) for u in users]


@staff_required
def enrol(request: HttpRequest, person_id: int) -> HttpResponse:
    from zhucheng.registry.selectors import person_get_for_user

    try:
        person = person_get_for_user(request.user, person_id)
    except NotVisible as exc:
        raise Http404(_("没有找到该人员，或不在您的管辖范围内。")) from exc
    carers = _carers_for(person.unit)
    categories = access.categories_visible(request.user)
    form = f.EnrolForm(request.POST or None, categories=categories, carers=carers)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        consent = services.ConsentInput(
            given_by=d["given_by"], given_on=d["given_on"], form=d["form"], withdrawal_method=d["withdrawal_method"],
            guardian_name=d["guardian_name"], guardian_relation=d["guardian_relation"], guardian_phone=d["guardian_phone"],
            lacks_capacity=d["lacks_capacity"], document_ref=d["document_ref"],
        )
        category = next(c for c in categories if str(c.pk) == d["category"])
        carer = User.objects.filter(pk=d["carer"]).first() if d["carer"] else None
        try:
            e = services.enrolment_create(
                actor=request.user, person=person, category=category, consent=consent, carer=carer, volunteer_name=d["volunteer_name"],
                volunteer_phone=d["volunteer_phone"], situation=d["situation"], goals=d["goals"],
            )
        except CareError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("已登记。"))
            return redirect("care:enrolment_detail", pk=e.pk)
    return render(request, "care/enrol.html", {"person": person, "form": form})


@staff_required
def enrolment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    e = _enrolment_or_404(request, pk, purpose="查看关爱对象")
    q = e.category.questionnaire
    user = request.user
    can_manage = services.has_role_over(user, e.unit, access.MANAGE_ROLES)
    return render(
        request,
        "care/enrolment_detail.html",
        {
            "e": e,
            "consent": e.consent,
            "guardian_phone": mask_phone(e.consent.guardian_phone) if e.consent.guardian_phone else "",
            "plan": getattr(e, "plan", None),
            "visits": list(selectors.visits_of(e)[:50]),
            "assessments": list(selectors.assessments_of(e)[:20]),
            "services_list": list(selectors.services_of(e)[:50]),
            "totals": selectors.services_total_for_person(user, e.person),
            "active": e.state == EnrolmentState.ACTIVE,
            "can_manage": can_manage,
            "assess_form": f.AssessForm(questions=q.questions) if q else None,
            "service_form": f.ServiceForm(initial={"delivered_on": timezone.localdate()}),
            "review_form": f.ReviewForm(initial={"note": e.situation}),
            "withdraw_form": f.WithdrawForm(),
            "end_form": f.EndForm(),
            "today": timezone.localdate(),
        },
    )


@staff_required
def enrolment_act(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    """POST of one act from the enrolment page (assess, service, review, withdraw, end)."""
    if request.method != "POST":
        return redirect("care:enrolment_detail", pk=pk)
    e = _enrolment_or_404(request, pk, purpose=f"关爱对象操作 {act}")
    user = request.user
    form: Any
    try:
        if act == "assess":
            q = e.category.questionnaire
            form = f.AssessForm(request.POST, questions=q.questions if q else [])
            if form.is_valid():
                a = services.assessment_record(actor=user, enrolment=e, answers=form.answers(len(q.questions if q else [])), notes=form.cleaned_data["notes"])
                messages.success(request, _("评估完成：%(s)d 分，风险等级%(r)s。") % {"s": a.score, "r": a.get_risk_level_display()})
                return redirect("care:enrolment_detail", pk=pk)
        elif act == "service":
            form = f.ServiceForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                services.service_record(actor=user, enrolment=e, kind=d["kind"], description=d["description"], provider=d["provider"],
                                        delivered_on=d["delivered_on"], amount_fen=f.yuan_to_fen(d["amount"]))
                messages.success(request, _("已记录服务。"))
                return redirect("care:enrolment_detail", pk=pk)
        elif act == "review":
            form = f.ReviewForm(request.POST)
            if form.is_valid():
                services.enrolment_review(actor=user, enrolment=e, note=form.cleaned_data["note"])
                messages.success(request, _("已复核。"))
                return redirect("care:enrolment_detail", pk=pk)
        elif act == "withdraw":
            form = f.WithdrawForm(request.POST)
            if form.is_valid():
                services.consent_withdraw(actor=user, enrolment=e, via=form.cleaned_data["via"])
                messages.success(request, _("已撤回同意：登记结束，记录已封存。"))
                return redirect("care:enrolment_list")
        elif act == "end":
            form = f.EndForm(request.POST)
            if form.is_valid():
                services.enrolment_end(actor=user, enrolment=e, reason=form.cleaned_data["reason"])
                messages.success(request, _("已结案。"))
                return redirect("care:enrolment_detail", pk=pk)
        else:
            raise Http404
    except CareError as exc:
        messages.error(request, exc.message)
        return redirect("care:enrolment_detail", pk=pk)
    messages.error(request, _("请检查填写的内容：") + "；".join(str(m) for errs in form.errors.values() for m in errs))
    return redirect("care:enrolment_detail", pk=pk)


# --- visits ------------------------------------------------------------------------------------------


@staff_required
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The phone-friendly visit form: one column, big touch targets, appeal and referral in the same step."""
    e = _enrolment_or_404(request, pk, purpose="记录走访")
    form = f.VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            v = services.visit_record(
                actor=request.user, enrolment=e, visited_on=d["visited_on"], kind=d["kind"], situation=d["situation"], needs=d["needs"],
                follow_up=d["follow_up"], raise_appeal=d["raise_appeal"], appeal_title=d["appeal_title"], refer_to=d["refer_to"],
                referral_note=d["referral_note"],
            )
        except CareError as exc:
            _apply_error(form, exc)
        else:
            text = _("走访已记录，下次走访截止 %(d)s。") % {"d": _next_due(e)}
            if v.appeal_id:
                text += " " + _("已转为诉求 %(code)s。") % {"code": v.appeal.code if v.appeal else ""}
            messages.success(request, text)
            return redirect("care:home")
    return render(request, "care/visit_form.html", {"e": e, "form": form, "plan": getattr(e, "plan", None)})


def _next_due(e: Enrolment) -> str:
    from .models import CarePlan

    plan = CarePlan.objects.filter(enrolment=e).first()
    return plan.next_due_on.isoformat() if plan else ""


# --- overdue -------------------------------------------------------------------------------------------


@staff_required
def overdue(request: HttpRequest) -> HttpResponse:
    """走访超期: per carer, per unit, and the list."""
    user = request.user
    roots = unit_roots_for(user)
    root = _unit_param(request) or (roots[0] if roots else None)
    if root is None:
        raise Http404
    rows = list(selectors.overdue_in(user, unit=root)[:200])
    services.record_reads(actor=user, enrolments=rows, purpose="走访超期清单")
    return render(
        request,
        "care/overdue.html",
        {
            "root": root,
            "by_carer": [r for r in selectors.overdue_by_carer(user, unit=root) if r.active],
            "by_unit": selectors.overdue_by_unit(user, root=root),
            "rows": rows,
            "today": timezone.localdate(),
        },
    )


# --- referrals -----------------------------------------------------------------------------------------


@staff_required
def referral_list(request: HttpRequest) -> HttpResponse:
    refs = list(selectors.referrals_visible_to(request.user, open_only=request.GET.get("all") != "1")[:200])
    shown = [(r, access.can_read_category(request.user, r.visit.enrolment.category, r.visit.enrolment.unit.path) and services.can_read(request.user, r.visit.enrolment)) for r in refs]
    return render(request, "care/referrals.html", {"refs": shown, "form": f.ReferralAnswerForm()})


@staff_required
def referral_answer(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        ref = selectors.referral_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404 from exc
    form = f.ReferralAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_answer(actor=request.user, referral=ref, answer=form.cleaned_data["answer"])
            messages.success(request, _("已办理。"))
        except CareError as exc:
            messages.error(request, exc.message)
    return redirect("care:referrals")


# --- metrics --------------------------------------------------------------------------------------------


@staff_required
def metrics_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    roots = unit_roots_for(user)
    root = _unit_param(request) or (roots[0] if roots else None)
    if root is None:
        raise Http404
    form = f.PeriodForm(request.GET or None)
    today = timezone.localdate()
    date_from, date_to = today.replace(day=1) - timedelta(days=335), today + timedelta(days=1)
    if form.is_valid():
        date_from = form.cleaned_data["date_from"] or date_from
        date_to = form.cleaned_data["date_to"] or date_to
    enrolled = metrics.enrolled_by_category_and_unit(user, root=root)
    period: dict[str, date] = {"date_from": date_from, "date_to": date_to}
    return render(
        request,
        "care/metrics.html",
        {
            "root": root,
            "form": form,
            **period,
            "enrolled": enrolled,
            "chart": enrolled.chart(),
            "visits": metrics.visits_on_time(user, root=root, **period),
            "by_category": metrics.services_by_category(user, root=root, **period),
            "by_kind": metrics.services_by_kind(user, root=root, **period),
            "by_unit": metrics.services_by_unit(user, root=root, **period),
            "links": metrics.link_usage(user, root=root, **period),
            "children": list(OrgUnit.objects.filter(parent=root).order_by("code")),
        },
    )
