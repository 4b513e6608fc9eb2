"""Pages over the hierarchy and staff posts, all limited by ``places.selectors.scoped`` (thin)."""

from __future__ import annotations

import csv
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.masking import mask_phone

from . import selectors, services
from .forms import UnitEditForm
from .models import OrgUnitKind


def _unit_or_404(request: HttpRequest, pk: int):  # type: ignore[no-untyped-def]
    try:
        return selectors.unit_get_for_user(request.user, pk)
    except selectors.NotVisible as exc:
        raise Http404(_("没有找到该区划单元,或它不在您的管辖范围内。")) from exc


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    units = selectors.units_for(request.user).select_related("parent")
    kind = request.GET.get("kind", "")
    if kind in OrgUnitKind.values:
        units = units.filter(kind=kind)
    q = request.GET.get("q", "").strip()
    if q:
        units = units.filter(name__contains=q)
    page = Paginator(units.order_by("path"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "places/unit_list.html",
        {"page": page, "kinds": OrgUnitKind.choices, "kind": kind, "q": q, "roots": selectors.unit_roots_for(request.user)},
    )


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = _unit_or_404(request, pk)
    return render(
        request,
        "places/unit_detail.html",
        {
            "unit": unit,
            "ancestors": selectors.unit_ancestors(unit),
            "children": selectors.unit_children(unit)[:200],
            "counts": selectors.unit_counts_by_kind(unit),
            "posts": selectors.memberships_visible_to(request.user).filter(unit=unit, is_active=True),
        },
    )


@login_required
def unit_boundary(request: HttpRequest, pk: int) -> JsonResponse:
    unit = _unit_or_404(request, pk)
    features = []
    for u in [unit, *selectors.unit_children(unit)]:
        if u.boundary:
            features.append({"type": "Feature", "geometry": u.boundary, "properties": {"id": u.pk, "name": u.name, "kind": u.kind, "self": u.pk == unit.pk}})
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_required
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = _unit_or_404(request, pk)
    initial = {"name": unit.name, "boundary": json.dumps(unit.boundary, ensure_ascii=False) if unit.boundary else ""}
    form = UnitEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_update(
                actor=request.user, unit=unit, reason=form.cleaned_data["reason"],
                name=form.cleaned_data["name"], boundary=form.cleaned_data["boundary"] or unit.boundary,
            )
        except services.PlacesError as exc:
            if exc.code == "forbidden":
                return render(request, "errors/403.html", {"reason": exc.message}, status=403)
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except Exception as exc:  # geo.BoundaryError carries its own message
            if not hasattr(exc, "reason"):
                raise
            form.add_error("boundary", str(exc))
        else:
            messages.success(request, _("已保存。"))
            return redirect("places:unit_detail", pk=unit.pk)
    return render(request, "places/unit_edit.html", {"unit": unit, "form": form})


@login_required
def unit_export(request: HttpRequest) -> HttpResponse:
    units = selectors.units_for(request.user).select_related("parent").order_by("path")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="units.csv"'
    response.write("\ufeff")  # BOM so that spreadsheet programs read UTF-8 Chinese correctly
    writer = csv.writer(response)
    writer.writerow([_("编码"), _("名称"), _("类型"), _("上级编码"), _("层级")])
    for u in units.iterator(chunk_size=2000):
        writer.writerow([u.code, u.name, u.get_kind_display(), u.parent.code if u.parent else "", u.depth])
    audit_record(actor=request.user, act="places.unit_export", reason=f"{units.count()} rows")
    return response


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    posts = selectors.memberships_visible_to(request.user).filter(is_active=True).order_by("unit__path", "department__code", "user__username")
    page = Paginator(posts, 50).get_page(request.GET.get("page"))
    rows = [(m, mask_phone(m.user.phone)) for m in page.object_list]
    return render(request, "places/staff_list.html", {"page": page, "rows": rows})


@login_required
def staff_export(request: HttpRequest) -> HttpResponse:
    posts = selectors.memberships_visible_to(request.user).filter(is_active=True).order_by("unit__path", "user__username")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="staff.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("用户名"), _("姓名"), _("角色"), _("区划单元"), _("部门"), _("手机号")])
    n = 0
    for m in posts.iterator(chunk_size=2000):
        writer.writerow([m.user.username, m.user.display_name, m.get_role_display(), m.unit.name if m.unit else "", m.department.name if m.department else "", mask_phone(m.user.phone)])
        n += 1
    audit_record(actor=request.user, act="places.staff_export", reason=f"{n} rows")
    return response
