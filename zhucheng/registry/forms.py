"""Forms of the registry pages: they parse input; the collection standard and the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CorrectionField

AREA = forms.Textarea(attrs={"rows": 3})

SEARCH_KINDS = (
    ("", _("自动识别")),
    ("name", _("姓名")),
    ("id", _("身份证/证件号码")),
    ("phone", _("联系电话")),
    ("address", _("地址/门牌")),
)
REVEAL_FIELDS = (
    ("id_number", _("公民身份号码")),
    ("doc_number", _("证件号码")),
    ("phone", _("联系电话")),
)


class SearchForm(forms.Form):
    """全员人口查询: one box; the kind is guessed from what is typed unless chosen."""

    q = forms.CharField(label=_("查询内容"), max_length=60, required=False, help_text=_("姓名(至少两个字)、身份证号码、手机号或地址。"))
    kind = forms.ChoiceField(label=_("查询方式"), choices=SEARCH_KINDS, required=False)


class RevealForm(forms.Form):
    """查看完整号码 ("break the glass"): the reason is recorded and shown to the resident."""

    field = forms.ChoiceField(label=_("号码"), choices=REVEAL_FIELDS, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("查看理由"),
        max_length=200,
        help_text=_("理由将记入审计记录,居民本人可以看到谁在何时因何查看了其完整号码。"),
    )


class CorrectionRequestForm(forms.Form):
    """更正申请 (PIPL right to correction), by the resident for their own record."""

    field = forms.ChoiceField(label=_("需要更正的事项"), choices=CorrectionField.choices)
    requested_value = forms.CharField(label=_("正确内容"), max_length=200)
    reason = forms.CharField(label=_("申请理由"), widget=AREA, max_length=1000, help_text=_("请说明原因,以及可以提供的证明材料。"))


class CorrectionDecideForm(forms.Form):
    """处理更正申请: accept (the record is changed, the old value kept) or reject, always with a reason."""

    decision = forms.ChoiceField(
        label=_("处理结果"),
        choices=(("accept", _("予以更正")), ("reject", _("不予更正"))),
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("处理意见"), widget=AREA, max_length=1000)


class ExportForm(forms.Form):
    """导出人员名单 (identifiers masked): the reason and the area are audited."""

    unit = forms.ChoiceField(label=_("范围"), required=False)
    reason = forms.CharField(label=_("导出用途"), max_length=200)

    def __init__(self, *args: Any, units: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields["unit"]
        f.choices = [("", _("我的全部辖区"))] + [(str(u.pk), u.name) for u in (units or [])]
