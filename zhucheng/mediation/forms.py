"""Forms of the mediation pages: they parse and validate input; the services decide what is allowed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhucheng.places.models import Membership

from . import permissions
from .models import DisputeField, Mediator, PartySide, Referral, Room, Urgency
from .selectors import ancestor_paths

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time", "step": "900"}, format="%H:%M")
AREA = forms.Textarea(attrs={"rows": 4})


def yuan_to_fen(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 100).to_integral_value())


class DisputeForm(forms.Form):
    """直接受理 (at a room) or from a screening report: the matter; parties come in a formset."""

    title = forms.CharField(label=_("纠纷事项"), max_length=120)
    facts = forms.CharField(label=_("纠纷事实"), widget=AREA)
    field = forms.ChoiceField(label=_("纠纷类型"), choices=DisputeField.choices, initial=DisputeField.OTHER)
    amount = forms.DecimalField(label=_("争议金额（元）"), required=False, min_value=Decimal(0), max_digits=14, decimal_places=2)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    room = forms.ModelChoiceField(label=_("受理调解室"), queryset=Room.objects.none(), required=False)
    prior_appeals = forms.IntegerField(label=_("此前就同一事项反映次数"), min_value=0, max_value=99, initial=0, required=False)

    def __init__(self, *args: Any, rooms: Any = None, room_required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields["room"]
        f.queryset = rooms if rooms is not None else Room.objects.none()
        f.required = room_required


class FromAppealForm(forms.Form):
    title = forms.CharField(label=_("纠纷事项"), max_length=120)
    facts = forms.CharField(label=_("纠纷事实"), widget=AREA)
    field = forms.ChoiceField(label=_("纠纷类型"), choices=DisputeField.choices, initial=DisputeField.OTHER)
    amount = forms.DecimalField(label=_("争议金额（元）"), required=False, min_value=Decimal(0), max_digits=14, decimal_places=2)
    room = forms.ModelChoiceField(label=_("调解室"), queryset=Room.objects.none(), required=False)

    def __init__(self, *args: Any, rooms: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields["room"]
        f.queryset = rooms if rooms is not None else Room.objects.none()


class PartyForm(forms.Form):
    side = forms.ChoiceField(label=_("身份"), choices=PartySide.choices)
    name = forms.CharField(label=_("姓名或名称"), max_length=100, required=False)
    is_organisation = forms.BooleanField(label=_("单位"), required=False)
    id_number = forms.CharField(label=_("身份证号或统一社会信用代码"), max_length=30, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    address = forms.CharField(label=_("住址"), max_length=200, required=False)
    representative_name = forms.CharField(label=_("代理人或法定代表人"), max_length=60, required=False)
    representative_role = forms.CharField(label=_("代理身份"), max_length=30, required=False)
    representative_phone = forms.CharField(
        label=_("代理人电话"), max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )


class BasePartyFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        named = [f for f in self.forms if f.cleaned_data.get("name", "").strip()]
        if not named:
            raise forms.ValidationError(_("请至少填写一名当事人。"))


PartyFormSet = forms.formset_factory(PartyForm, formset=BasePartyFormSet, extra=0, min_num=2, validate_min=False)


class AssignForm(forms.Form):
    mediator = forms.ModelChoiceField(label=_("调解员"), queryset=Mediator.objects.none())
    room = forms.ModelChoiceField(label=_("调解室"), queryset=Room.objects.none(), required=False)
    reason = forms.CharField(label=_("说明"), max_length=500, required=False)

    def __init__(self, *args: Any, mediators: Any = None, rooms: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        m: Any = self.fields["mediator"]
        m.queryset = mediators if mediators is not None else Mediator.objects.none()
        m.label_from_instance = lambda x: f"{x.name} · {x.get_affiliation_display()} · {x.unit.name}"
        r: Any = self.fields["room"]
        r.queryset = rooms if rooms is not None else Room.objects.none()


class ConflictForm(forms.Form):
    mediator = forms.ModelChoiceField(label=_("调解员"), queryset=Mediator.objects.none())
    has_conflict = forms.TypedChoiceField(
        label=_("是否存在利益冲突"),
        choices=[("0", _("不存在")), ("1", _("存在（回避）"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("说明"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, mediators: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        m: Any = self.fields["mediator"]
        m.queryset = mediators if mediators is not None else Mediator.objects.none()


class ScheduleForm(forms.Form):
    room = forms.ModelChoiceField(label=_("调解室"), queryset=Room.objects.none())
    day = forms.DateField(label=_("日期"), widget=DATE)
    start = forms.TimeField(label=_("开始时间"), widget=TIME)
    end = forms.TimeField(label=_("结束时间"), widget=TIME)
    parties = forms.MultipleChoiceField(label=_("通知到场的当事人"), required=False, widget=forms.CheckboxSelectMultiple)
    others = forms.CharField(
        label=_("其他参加人"),
        required=False,
        help_text=_("每行一人：姓名，身份（如 翻译、证人）"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, rooms: Any = None, parties: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        r: Any = self.fields["room"]
        r.queryset = rooms if rooms is not None else Room.objects.none()
        r.label_from_instance = lambda x: f"{x.name}({x.unit.name},{x.opens_at:%H:%M}–{x.closes_at:%H:%M})"
        p: Any = self.fields["parties"]
        p.choices = [(str(x.pk), f"{x.get_side_display()} {x.name}") for x in parties]
        if not self.is_bound:
            p.initial = [str(x.pk) for x in parties]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("day") and data.get("start") and data.get("end"):
            tz = timezone.get_current_timezone()
            data["starts_at"] = datetime.combine(data["day"], data["start"], tzinfo=tz)
            data["ends_at"] = datetime.combine(data["day"], data["end"], tzinfo=tz)
        return data

    def other_attendees(self) -> list[tuple[str, str]]:
        out = []
        for line in (self.cleaned_data.get("others") or "").splitlines():
            parts = [p.strip() for p in line.replace("，", ",").split(",", 1)]
            if parts[0]:
                out.append((parts[0], parts[1] if len(parts) > 1 else ""))
        return out


class RecordSessionForm(forms.Form):
    present = forms.MultipleChoiceField(label=_("到场人员"), required=False, widget=forms.CheckboxSelectMultiple)
    minutes = forms.CharField(label=_("调解笔录"), widget=AREA)

    def __init__(self, *args: Any, attendances: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields["present"]
        f.choices = [(str(a.pk), f"{a} {a.role}") for a in attendances]


class CancelSessionForm(forms.Form):
    reason = forms.CharField(label=_("取消原因"), max_length=500)


class TermForm(forms.Form):
    text = forms.CharField(label=_("协议内容"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.DecimalField(label=_("金额（元）"), required=False, min_value=Decimal(0), max_digits=14, decimal_places=2)
    due_on = forms.DateField(label=_("履行期限"), required=False, widget=DATE, help_text=_("留空表示签订时当场履行"))
    obligor = forms.TypedChoiceField(label=_("履行人"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, parties: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields["obligor"]
        f.choices = [("", "—")] + [(str(p.pk), f"{p.get_side_display()} {p.name}") for p in parties]


class AgreementForm(forms.Form):
    facts = forms.CharField(label=_("纠纷主要事实、争议事项"), widget=AREA)
    signed_on = forms.DateField(label=_("签订日期"), widget=DATE, initial=timezone.localdate)


TermFormSet = forms.formset_factory(TermForm, extra=3)


class FailForm(forms.Form):
    referral = forms.ChoiceField(label=_("引导途径"), choices=Referral.choices)
    guidance = forms.CharField(
        label=_("告知当事人的指引"), required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("留空时使用该途径的标准指引")
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤回理由"), widget=forms.Textarea(attrs={"rows": 2}))


class JudicialForm(forms.Form):
    court = forms.CharField(label=_("受理法院"), max_length=100)
    requested_on = forms.DateField(label=_("申请日期"), widget=DATE, initial=timezone.localdate)


class TermCheckForm(forms.Form):
    fulfilled = forms.TypedChoiceField(
        label=_("履行情况"),
        choices=[("1", _("已履行")), ("0", _("未履行"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("核实情况"), required=False, max_length=2000)


class FollowUpForm(forms.Form):
    title = forms.CharField(label=_("任务"), max_length=200)
    owner = forms.TypedChoiceField(label=_("负责人"), coerce=int)
    due_on = forms.DateField(label=_("完成期限"), widget=DATE)

    def __init__(self, *args: Any, owners: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields["owner"]
        f.choices = [(str(u.pk), u.display_name or u.get_username()) for u in owners]


class FollowUpDoneForm(forms.Form):
    note = forms.CharField(label=_("情况说明"), max_length=2000)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ThreatForm(forms.Form):
    note = forms.CharField(label=_("情况记录"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class HandOverForm(forms.Form):
    body = forms.CharField(label=_("移交单位"), max_length=120)
    reason = forms.CharField(label=_("移交理由"), widget=forms.Textarea(attrs={"rows": 2}))


class ScreeningReportForm(forms.Form):
    found = forms.TypedChoiceField(
        label=_("本月排查结果"),
        choices=[("0", _("未发现矛盾纠纷和风险")), ("1", _("发现矛盾纠纷或风险"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    disputes_found = forms.IntegerField(label=_("发现纠纷数"), min_value=0, max_value=999, required=False, initial=0)
    risks_found = forms.IntegerField(label=_("发现风险数"), min_value=0, max_value=999, required=False, initial=0)
    note = forms.CharField(label=_("情况说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MetricsForm(forms.Form):
    by = forms.ChoiceField(
        label=_("分组"),
        choices=[("total", _("合计")), ("committee", _("按调解委员会")), ("room", _("按调解室")), ("unit", _("按区划")), ("month", _("按月份"))],
        required=False,
    )
    date_from = forms.DateField(label=_("起始日期"), widget=DATE, required=False)
    date_to = forms.DateField(label=_("截止日期（不含）"), widget=DATE, required=False)


def followup_owners(dispute: Any) -> list[Any]:
    """Who may own a follow-up: case staff posted over the dispute's unit, and its mediator."""
    from zhucheng.accounts.models import User

    ids = set(
        Membership.objects.active()
        .filter(role__in=permissions.CASE_ROLES, unit__path__in=ancestor_paths(dispute.unit))
        .values_list("user_id", flat=True)
    )
    if dispute.mediator_id and dispute.mediator and dispute.mediator.user_id:
        ids.add(dispute.mediator.user_id)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("display_name", "username"))


def month_or_today(text: str | None) -> date:
    if text:
        try:
            y, m = (int(p) for p in text.split("-")[:2])
            return date(y, m, 1)
        except (ValueError, TypeError):
            pass
    return timezone.localdate().replace(day=1)
