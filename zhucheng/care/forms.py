"""Forms of the care pages: they parse and validate input; the services decide what is allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhucheng.places.models import Department

from .models import ConsentForm, ConsentGiver, ServiceKind, VisitKind
from .models_more import HomelessOutcome

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
AREA = forms.Textarea(attrs={"rows": 3})


def yuan_to_fen(value: Decimal | None) -> int:
    return 0 if value is None else int((value * 100).to_integral_value())


class EnrolForm(forms.Form):
    category = forms.ChoiceField(label=_("关爱类别"))
    situation = forms.CharField(label=_("基本情况"), widget=AREA, required=False)
    goals = forms.CharField(label=_("帮扶目标"), widget=AREA, required=False)
    carer = forms.ChoiceField(label=_("责任人(工作人员)"), required=False)
    volunteer_name = forms.CharField(label=_("或:志愿者姓名"), max_length=60, required=False)
    volunteer_phone = forms.CharField(label=_("志愿者电话"), max_length=20, required=False)
    given_by = forms.ChoiceField(label=_("同意人"), choices=ConsentGiver.choices, widget=forms.RadioSelect)
    lacks_capacity = forms.BooleanField(label=_("本人为无民事行为能力或限制民事行为能力的成年人"), required=False)
    guardian_name = forms.CharField(label=_("监护人姓名"), max_length=60, required=False)
    guardian_relation = forms.CharField(label=_("监护人与本人关系"), max_length=30, required=False)
    guardian_phone = forms.CharField(label=_("监护人电话"), max_length=20, required=False)
    given_on = forms.DateField(label=_("同意日期"), widget=DATE)
    form = forms.ChoiceField(label=_("同意方式"), choices=ConsentForm.choices)
    document_ref = forms.CharField(label=_("同意书编号"), max_length=60, required=False)
    withdrawal_method = forms.CharField(
        label=_("已告知的撤回方式"), max_length=200, initial=_("随时可致电社区居委会或告知网格员撤回,撤回后不再走访并封存记录"),
    )

    def __init__(self, *args: Any, categories: list[Any], carers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields["category"]
        f.choices = [(c.pk, c.name) for c in categories]
        c: Any = self.fields["carer"]
        c.choices = [("", _("(选择志愿者时留空)")), *carers]
        self.fields["given_on"].initial = timezone.localdate()


class AssessForm(forms.Form):
    notes = forms.CharField(label=_("说明"), widget=AREA, required=False)

    def __init__(self, *args: Any, questions: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i, q in enumerate(questions):
            self.fields[f"q{i}"] = forms.TypedChoiceField(
                label=q.get("text", ""), coerce=int, widget=forms.RadioSelect,
                choices=[(j, f"{label}({score}分)") for j, (label, score) in enumerate(q.get("choices") or [])],
            )
        self.order_fields([f"q{i}" for i in range(len(questions))] + ["notes"])

    def answers(self, n: int) -> list[int]:
        return [self.cleaned_data[f"q{i}"] for i in range(n)]


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("走访日期"), widget=DATE)
    kind = forms.ChoiceField(label=_("方式"), choices=VisitKind.choices, widget=forms.RadioSelect, initial=VisitKind.HOME)
    situation = forms.CharField(label=_("现场情况"), widget=AREA)
    needs = forms.CharField(label=_("需求"), widget=AREA, required=False)
    follow_up = forms.CharField(label=_("后续措施"), widget=AREA, required=False)
    raise_appeal = forms.BooleanField(label=_("将需求转为诉求(网格员上报)"), required=False)
    appeal_title = forms.CharField(label=_("诉求标题"), max_length=120, required=False)
    refer_to = forms.ModelChoiceField(label=_("转介部门"), queryset=Department.objects.filter(is_active=True).order_by("code"), required=False)
    referral_note = forms.CharField(label=_("转介事项"), widget=AREA, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = timezone.localdate()


class ServiceForm(forms.Form):
    kind = forms.ChoiceField(label=_("服务类型"), choices=ServiceKind.choices)
    description = forms.CharField(label=_("服务内容"), max_length=200)
    provider = forms.CharField(label=_("提供方"), max_length=100)
    delivered_on = forms.DateField(label=_("日期"), widget=DATE)
    amount = forms.DecimalField(label=_("金额(元)"), min_value=Decimal(0), max_digits=12, decimal_places=2, required=False)


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("复核意见(目前情况)"), widget=AREA)


class WithdrawForm(forms.Form):
    via = forms.CharField(label=_("撤回途径(如:本人来电、监护人书面)"), max_length=100)
    confirm = forms.BooleanField(label=_("确认撤回:登记结束,记录封存,不再显示"))


class EndForm(forms.Form):
    reason = forms.CharField(label=_("结案原因"), max_length=200)


class ReferralAnswerForm(forms.Form):
    answer = forms.CharField(label=_("处理结果"), widget=AREA)


class BookingForm(forms.Form):
    starts_at = forms.ChoiceField(label=_("时段"))
    person = forms.TypedChoiceField(label=_("老人/儿童"), coerce=int, widget=forms.RadioSelect)
    family_name = forms.CharField(label=_("亲属姓名"), max_length=60)
    family_relation = forms.CharField(label=_("关系"), max_length=30)
    family_phone = forms.CharField(label=_("亲属联系方式"), max_length=20)
    family_place = forms.CharField(label=_("亲属所在地"), max_length=100, required=False)

    def __init__(self, *args: Any, slots: list[tuple[str, str]], persons: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        s: Any = self.fields["starts_at"]
        s.choices = slots
        p: Any = self.fields["person"]
        p.choices = [(x.pk, f"{x.name}({x.birth_date.year if x.birth_date else '?'}年生)") for x in persons]


class UsageForm(forms.Form):
    used = forms.TypedChoiceField(label=_("使用情况"), coerce=lambda v: v == "1", choices=[("1", _("已通话")), ("0", _("未到"))], widget=forms.RadioSelect)
    minutes = forms.IntegerField(label=_("通话时长(分钟)"), min_value=1, max_value=240, required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class ActivityForm(forms.Form):
    held_on = forms.DateField(label=_("日期"), widget=DATE)
    title = forms.CharField(label=_("活动名称"), max_length=100)
    description = forms.CharField(label=_("内容"), widget=AREA, required=False)
    attendees = forms.TypedMultipleChoiceField(label=_("参加人"), coerce=int, widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        a: Any = self.fields["attendees"]
        a.choices = [(p.pk, p.name) for p in people]
        self.fields["held_on"].initial = timezone.localdate()


class MeetingForm(forms.Form):
    met_on = forms.DateField(label=_("见面日期"), widget=DATE)
    note = forms.CharField(label=_("情况"), widget=AREA)


class PairingReviewForm(forms.Form):
    keep = forms.TypedChoiceField(label=_("评议结论"), coerce=lambda v: v == "1", choices=[("1", _("继续结对")), ("0", _("解除结对"))], widget=forms.RadioSelect)
    note = forms.CharField(label=_("评议意见"), widget=AREA)


class HomelessOpenForm(forms.Form):
    found_at = forms.DateTimeField(label=_("发现时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    found_place = forms.CharField(label=_("发现地点"), max_length=200)
    unit = forms.ChoiceField(label=_("所在区划"))
    description = forms.CharField(label=_("现场情况"), widget=AREA)
    sex = forms.ChoiceField(label=_("性别"), choices=[("", _("不详")), ("M", _("男")), ("F", _("女"))], required=False)
    apparent_age = forms.CharField(label=_("估计年龄"), max_length=20, required=False)
    holder = forms.ChoiceField(label=_("承办部门"))

    def __init__(self, *args: Any, units: list[Any], holders: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        u: Any = self.fields["unit"]
        u.choices = [(x.pk, x.name) for x in units]
        h: Any = self.fields["holder"]
        h.choices = [(d.pk, d.name) for d in holders]


class HomelessUpdateForm(forms.Form):
    name_given = forms.CharField(label=_("自述姓名"), max_length=60, required=False)
    identity_notes = forms.CharField(label=_("身份核查情况"), widget=AREA, required=False)
    health_notes = forms.CharField(label=_("健康状况"), widget=AREA, required=False)
    assistance_notes = forms.CharField(label=_("救助情况"), widget=AREA, required=False)

    def __init__(self, *args: Any, writable: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in writable:
                del self.fields[name]


class HandOffForm(forms.Form):
    to_department = forms.ChoiceField(label=_("移交给"))
    note = forms.CharField(label=_("移交说明"), widget=AREA)

    def __init__(self, *args: Any, departments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        d: Any = self.fields["to_department"]
        d.choices = [(x.pk, x.name) for x in departments]


class HomelessCloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("办结结果"), choices=HomelessOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("办结说明"), widget=AREA)


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("起始日期"), widget=DATE, required=False)
    date_to = forms.DateField(label=_("截止日期(不含)"), widget=DATE, required=False)
