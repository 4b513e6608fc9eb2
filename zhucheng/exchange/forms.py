"""Forms of the exchange pages: upload a file, decide a review, undo a merge, pick a report period."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD = 200 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(label=_("数据文件"), help_text=_("CSV、Excel(XLSX)或 JSON Lines,编码与接口约定一致"))

    def clean_file(self) -> object:
        f = self.cleaned_data["file"]
        if f.size > MAX_UPLOAD:
            raise forms.ValidationError(_("文件不能超过 200 MB。"))
        return f


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("复核结论"), choices=[("accept", _("是同一人")), ("reject", _("不是同一人"))], widget=forms.HiddenInput)
    note = forms.CharField(label=_("复核意见"), max_length=200, required=False)


class UnmergeForm(forms.Form):
    reason = forms.CharField(label=_("撤销理由"), max_length=200)


class ReportForm(forms.Form):
    day = forms.DateField(label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    month = forms.CharField(label=_("月份"), required=False, widget=forms.TextInput(attrs={"type": "month"}))

    def clean_month(self) -> tuple[int, int] | None:
        raw = (self.cleaned_data.get("month") or "").strip()
        if not raw:
            return None
        try:
            year, month = (int(x) for x in raw.split("-"))
        except ValueError as exc:
            raise forms.ValidationError(_("月份请写成 2026-05 的形式。")) from exc
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise forms.ValidationError(_("月份请写成 2026-05 的形式。"))
        return year, month
