from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class UnitEditForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    boundary = forms.CharField(label=_("边界 (GeoJSON)"), required=False, widget=forms.Textarea(attrs={"rows": 6}))
    reason = forms.CharField(label=_("修改理由"), max_length=200)

    def clean_boundary(self) -> Any:
        raw = self.cleaned_data["boundary"].strip()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("不是有效的 JSON:第 %(line)d 行第 %(col)d 列。") % {"line": exc.lineno, "col": exc.colno}) from exc
