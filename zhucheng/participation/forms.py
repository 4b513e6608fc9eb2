"""Forms of the staff pages that set up budgets and run the residents' council: they parse and check
what was typed (types, ranges, dates in order); the services in ``services.py`` and ``council.py``
decide what is allowed and write."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhucheng.places.models import OrgUnit

from .errors import ParticipationError
from .models import PHASE_ORDER, Budget, CouncilMember, Phase, ResolutionKind, VotingRule

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
AREA = forms.Textarea(attrs={"rows": 4})
HEADING_ROWS = 6
MONEY_ERRORS = {
    "invalid": _("请输入金额(元),如 1200 或 1200.50。"),
    "min_value": _("请输入大于零、最多两位小数的金额(元)。"),
    "max_decimal_places": _("请输入大于零、最多两位小数的金额(元)。"),
}


def money_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages=MONEY_ERRORS,
        help_text=help_text,
    )


def to_fen(value: Decimal | None) -> int:
    return 0 if value is None else int((value * 100).to_integral_value())


class ServiceErrorsMixin:
    """Put a service's refusal next to the field it names (``amount_fen`` → the ``amount`` input…)."""

    service_fields: dict[str, str] = {}

    def add_service_error(self, exc: ParticipationError) -> None:
        form: Any = self
        name = self.service_fields.get(exc.field, exc.field)
        form.add_error(name if name in form.fields else None, exc.message)


# --- budgets -------------------------------------------------------------------------------------


class BudgetForm(ServiceErrorsMixin, forms.Form):
    """设立年度社区公益金预算."""

    service_fields = {"amount_fen": "amount"}

    unit = forms.ModelChoiceField(
        label=_("社区"),
        queryset=OrgUnit.objects.none(),
        empty_label=_("请选择社区"),
        error_messages={"invalid_choice": _("请选择您有权管理的社区。"), "required": _("请选择社区。")},
    )
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(
        label=_("名称"), max_length=120, required=False, help_text=_("不填则为「社区名称 + 年度 + 年度社区公益金」。")
    )
    description = forms.CharField(label=_("说明"), widget=AREA, required=False, max_length=4000)
    amount = money_field(_("预算金额(元)"))
    voting_rule = forms.ChoiceField(
        label=_("投票规则"), choices=VotingRule.choices, widget=forms.RadioSelect, initial=VotingRule.KNAPSACK
    )
    min_spend_percent = forms.IntegerField(
        label=_("最低使用预算比例(%)"),
        min_value=0,
        max_value=100,
        initial=0,
        required=False,
        help_text=_("预算内自选时:居民所选项目的合计费用至少占预算的这个比例;0 表示不限。"),
    )
    min_choices = forms.IntegerField(
        label=_("最少选择项数"), min_value=1, max_value=50, initial=1, required=False, help_text=_("限项赞成票时使用。")
    )
    max_choices = forms.IntegerField(
        label=_("最多选择项数"), min_value=1, max_value=50, initial=5, required=False, help_text=_("限项赞成票时使用。")
    )
    min_age = forms.IntegerField(label=_("投票最低年龄"), min_value=0, max_value=100, initial=16)
    min_residence_months = forms.IntegerField(
        label=_("最短居住月数"), min_value=0, max_value=600, initial=0, help_text=_("0 表示不限。")
    )
    allow_migrants = forms.BooleanField(label=_("流动人口可投票"), required=False, initial=True)
    voting_closes_at = forms.DateTimeField(
        label=_("投票截止时间"), required=False, widget=DATETIME, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields["unit"]
        f.queryset = units
        f.label_from_instance = lambda u: f"{u.parent.name} · {u.name}" if u.parent_id else u.name
        if units.count() == 1 and not self.is_bound:
            self.initial.setdefault("unit", units.first())
        for i in range(HEADING_ROWS):
            self.fields[f"heading_name_{i}"] = forms.CharField(label=_("类别名称"), max_length=40, required=False)
            self.fields[f"heading_amount_{i}"] = money_field(_("参考金额(元)"), required=False)
        for phase in PHASE_ORDER:
            self.fields[f"schedule_{phase}"] = forms.DateField(label=Phase(phase).label, required=False, widget=DATE)

    # Field groups for the template.
    def heading_rows(self) -> list[tuple[int, Any, Any]]:
        return [(i + 1, self[f"heading_name_{i}"], self[f"heading_amount_{i}"]) for i in range(HEADING_ROWS)]

    def schedule_fields(self) -> list[Any]:
        return [self[f"schedule_{p}"] for p in PHASE_ORDER]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("voting_rule") == VotingRule.APPROVAL:
            lo, hi = data.get("min_choices"), data.get("max_choices")
            if lo is None and "min_choices" not in self.errors:
                self.add_error("min_choices", _("请填写最少选择项数。"))
            if hi is None and "max_choices" not in self.errors:
                self.add_error("max_choices", _("请填写最多选择项数。"))
            if lo is not None and hi is not None and lo > hi:
                self.add_error("max_choices", _("最多选择项数不能少于最少选择项数。"))
        seen: set[str] = set()
        total = 0
        for i in range(HEADING_ROWS):
            name = (data.get(f"heading_name_{i}") or "").strip()
            amount = data.get(f"heading_amount_{i}")
            if f"heading_amount_{i}" in self.errors:
                continue
            if name and amount is None:
                self.add_error(f"heading_amount_{i}", _("请填写该类别的参考金额。"))
            elif amount is not None and not name:
                self.add_error(f"heading_name_{i}", _("请填写类别名称。"))
            elif name in seen:
                self.add_error(f"heading_name_{i}", _("类别「%(name)s」重复了。") % {"name": name})
            if name:
                seen.add(name)
            total += to_fen(amount)
        budget = data.get("amount")
        if budget is not None and total > to_fen(budget):
            self.add_error("heading_amount_0", _("各类别参考金额合计不能超过预算金额。"))
        previous: tuple[str, date] | None = None
        for phase in PHASE_ORDER:
            day = data.get(f"schedule_{phase}")
            if day is None:
                continue
            if previous is not None and day < previous[1]:
                self.add_error(
                    f"schedule_{phase}",
                    _("「%(phase)s」的日期不能早于「%(before)s」。")
                    % {"phase": Phase(phase).label, "before": Phase(previous[0]).label},
                )
            previous = (phase, day)
        closes: datetime | None = data.get("voting_closes_at")
        opens: date | None = data.get(f"schedule_{Phase.VOTING}")
        if closes is not None and opens is not None and closes.date() < opens:
            self.add_error("voting_closes_at", _("投票截止时间不能早于投票开始日期。"))
        return data

    def service_arguments(self) -> dict[str, Any]:
        """What ``services.budget_create`` takes, from the cleaned data."""
        d = self.cleaned_data
        unit = d["unit"]
        approval = d["voting_rule"] == VotingRule.APPROVAL
        title = (d.get("title") or "").strip() or str(
            _("%(unit)s%(year)d年度社区公益金") % {"unit": unit.name, "year": d["year"]}
        )
        return {
            "unit": unit,
            "year": d["year"],
            "title": title,
            "description": d.get("description") or "",
            "amount_fen": to_fen(d["amount"]),
            "voting_rule": d["voting_rule"],
            # Each rule's own settings; the other rule's keep the service defaults.
            **({"min_choices": d["min_choices"], "max_choices": d["max_choices"]} if approval else {}),
            **({} if approval else {"min_spend_percent": d.get("min_spend_percent") or 0}),
            "min_age": d["min_age"],
            "min_residence_months": d["min_residence_months"],
            "allow_migrants": bool(d.get("allow_migrants")),
            "headings": [
                ((d.get(f"heading_name_{i}") or "").strip(), to_fen(d.get(f"heading_amount_{i}")))
                for i in range(HEADING_ROWS)
                if (d.get(f"heading_name_{i}") or "").strip()
            ],
            "schedule": {p: d[f"schedule_{p}"].isoformat() for p in PHASE_ORDER if d.get(f"schedule_{p}")},
            "voting_closes_at": d.get("voting_closes_at"),
        }


# --- the residents' council ----------------------------------------------------------------------


class CouncilForm(ServiceErrorsMixin, forms.Form):
    unit = forms.ModelChoiceField(
        label=_("社区"),
        queryset=OrgUnit.objects.none(),
        empty_label=_("请选择社区"),
        error_messages={"invalid_choice": _("请选择您有权管理、尚未设立议事会的社区。"), "required": _("请选择社区。")},
    )
    name = forms.CharField(label=_("名称"), max_length=100, required=False, help_text=_("不填则为「社区名称 + 居民议事会」。"))

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields["unit"]
        f.queryset = units
        f.label_from_instance = lambda u: f"{u.parent.name} · {u.name}" if u.parent_id else u.name

    def council_name(self) -> str:
        unit = self.cleaned_data["unit"]
        return (self.cleaned_data.get("name") or "").strip() or str(_("%(unit)s居民议事会") % {"unit": unit.name})


class MemberForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(
        label=_("姓名"), max_length=60, required=False, help_text=_("填写了身份证号时可不填,按人口信息登记的姓名。")
    )
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=30,
        required=False,
        help_text=_("选填:关联到辖区内登记的居民。"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.CharField(label=_("职务"), max_length=30, initial="议事员")  # stored as typed, like the model default
    term_from = forms.DateField(label=_("任期开始"), widget=DATE)
    term_to = forms.DateField(label=_("任期结束"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "member")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("name") or "").strip() and not (data.get("id_number") or "").strip() and "name" not in self.errors:
            self.add_error("name", _("请填写姓名。"))
        return data


class MeetingForm(ServiceErrorsMixin, forms.Form):
    held_on = forms.DateField(label=_("会议日期"), widget=DATE)
    place = forms.CharField(label=_("地点"), max_length=120)
    agenda = forms.CharField(label=_("议程"), widget=AREA, max_length=4000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "meeting")
        super().__init__(*args, **kwargs)


class RecordForm(ServiceErrorsMixin, forms.Form):
    """会议纪要与出席: the checkboxes list the members whose term covers the meeting day."""

    minutes = forms.CharField(label=_("会议纪要"), widget=AREA, max_length=8000)
    attendees = forms.MultipleChoiceField(
        label=_("出席成员"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("出席人员中有不在任期内的成员。")},
    )

    def __init__(self, *args: Any, members: list[CouncilMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {str(m.pk): m for m in members}
        f: Any = self.fields["attendees"]
        f.choices = [(str(m.pk), f"{m.name}({m.role})") for m in members]

    def clean_attendees(self) -> list[CouncilMember]:
        return [self.members[pk] for pk in self.cleaned_data.get("attendees") or []]


class ResolutionForm(ServiceErrorsMixin, forms.Form):
    """决议: a ``proposal`` resolution also files a proposal in one of the community's budgets."""

    service_fields = {"title": "proposal_title", "estimated_cost_fen": "proposal_cost", "description": "text"}

    kind = forms.ChoiceField(
        label=_("类型"), choices=ResolutionKind.choices, widget=forms.RadioSelect, initial=ResolutionKind.RECOMMENDATION
    )
    text = forms.CharField(label=_("决议内容"), widget=AREA, max_length=4000)
    votes_for = forms.IntegerField(label=_("赞成"), min_value=0, max_value=999)
    votes_against = forms.IntegerField(label=_("反对"), min_value=0, max_value=999, initial=0)
    abstentions = forms.IntegerField(label=_("弃权"), min_value=0, max_value=999, initial=0)
    budget = forms.ChoiceField(
        label=_("列入哪个年度预算"),
        required=False,
        help_text=_("形成提案时填写:只列出正在征集提案的本社区预算。"),
        error_messages={"invalid_choice": _("请选择本社区的年度预算。")},
    )
    proposal_title = forms.CharField(label=_("提案标题"), max_length=120, required=False)
    proposal_cost = money_field(_("估算费用(元)"), required=False)

    def __init__(self, *args: Any, budgets: list[Budget], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budgets = {str(b.pk): b for b in budgets}
        f: Any = self.fields["budget"]
        f.choices = [("", _("请选择预算"))] + [(str(b.pk), b.title) for b in budgets]
        if not self.is_bound and len(budgets) == 1:
            self.initial.setdefault("budget", str(budgets[0].pk))

    def clean_budget(self) -> Budget | None:
        return self.budgets.get(self.cleaned_data.get("budget") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == ResolutionKind.PROPOSAL:
            if data.get("budget") is None and "budget" not in self.errors:
                self.add_error("budget", _("请选择本社区的年度预算。"))
            if not (data.get("proposal_title") or "").strip():
                self.add_error("proposal_title", _("请填写提案标题。"))
            if data.get("proposal_cost") is None and "proposal_cost" not in self.errors:
                self.add_error("proposal_cost", _("请填写估算费用(大于零)。"))
        return data


class RespondForm(ServiceErrorsMixin, forms.Form):
    response = forms.CharField(label=_("社区答复"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
