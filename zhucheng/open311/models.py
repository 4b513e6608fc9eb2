"""Open311 GeoReport v2 over the appeals domain: API clients and keys, service attributes, request extras.

An Open311 *service* is a leaf ``appeals.Category``; a *service request* is an ``appeals.Appeal``.
What GeoReport needs beyond the appeal lives here: the keys third-party clients post with
(``ApiClient``), the extra form fields of a service (``ServiceAttribute``, the spec's service
definition), and what a POST brought that the appeal has no field for (``ServiceRequest``:
media_url, address_id, device and account ids, e-mail; ``RequestAttributeValue``: the answers
to the attributes). Reporter contacts are never returned by the interface.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhucheng.appeals.models import Appeal, Category
from zhucheng.core.fields import EncryptedCharField
from zhucheng.core.models import TimeStampedModel


class ApiClient(models.Model):
    """API 客户端: a third-party app allowed to POST service requests with its key.

    Only the SHA-256 of the key is stored (keys are long and random, so a fast hash is enough);
    ``key_prefix`` is the key's first characters, shown in lists and accepted by ``revoke``.
    An empty ``categories`` set means every service.
    """

    name = models.CharField(_("名称"), max_length=100, unique=True)
    key_prefix = models.CharField(_("密钥前缀"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    categories = models.ManyToManyField(
        Category,
        verbose_name=_("限定分类"),
        blank=True,
        related_name="+",
        help_text=_("留空表示可提交全部分类"),
    )
    rate_limit = models.CharField(
        _("提交频率上限"), max_length=20, blank=True, help_text=_("如 600/min；留空使用系统默认值，0 表示不限")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 客户端")
        verbose_name_plural = _("Open311 客户端")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class Datatype(models.TextChoices):
    STRING = "string", _("单行文字")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("多行文字")
    SINGLEVALUELIST = "singlevaluelist", _("单选")
    MULTIVALUELIST = "multivaluelist", _("多选")


LIST_DATATYPES = (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST)

attribute_code_validator = RegexValidator(r"^[A-Za-z0-9_-]{1,40}$", _("编码只能由字母、数字、下划线和短横线组成。"))


class ServiceAttribute(TimeStampedModel):
    """服务属性: one extra field a service asks for (the spec's service definition ``attribute``).

    ``values`` holds the options of a list datatype: ``[{"key": "...", "name": "中文", "name_en": "English"}]``.
    ``variable = False`` marks text shown to the reporter only (no answer is expected).
    """

    category = models.ForeignKey(Category, verbose_name=_("分类"), on_delete=models.CASCADE, related_name="open311_attributes")
    code = models.CharField(_("编码"), max_length=40, validators=[attribute_code_validator])
    variable = models.BooleanField(_("需要填写"), default=True, help_text=_("否则仅向群众展示说明"))
    datatype = models.CharField(_("类型"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(_("必填"), default=False)
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)
    description = models.CharField(_("说明"), max_length=200)
    description_en = models.CharField(_("英文说明"), max_length=200, blank=True)
    datatype_description = models.CharField(_("填写提示"), max_length=200, blank=True)
    datatype_description_en = models.CharField(_("英文填写提示"), max_length=200, blank=True)
    values = models.JSONField(_("选项"), default=list, blank=True, help_text=_('如 [{"key": "off", "name": "不亮", "name_en": "Not lit"}]'))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务属性")
        verbose_name_plural = _("服务属性")
        ordering = ["category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_attribute_code_unique"),
            models.UniqueConstraint(fields=["category", "order"], name="open311_attribute_order_unique"),
            models.CheckConstraint(condition=models.Q(order__gte=1), name="open311_attribute_order_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category.code}/{self.code}"

    def option_keys(self) -> list[str]:
        return [str(v.get("key", "")) for v in self.values or [] if isinstance(v, dict)]

    def clean(self) -> None:
        super().clean()
        values = self.values if self.values is not None else []
        if not isinstance(values, list) or not all(
            isinstance(v, dict) and str(v.get("key", "")).strip() and str(v.get("name", "")).strip() for v in values
        ):
            raise ValidationError({"values": _("选项须为列表，每项含非空的 key 与 name。")})
        keys = [str(v["key"]) for v in values]
        if len(set(keys)) != len(keys):
            raise ValidationError({"values": _("选项的 key 不能重复。")})
        if self.datatype in LIST_DATATYPES and not values:
            raise ValidationError({"values": _("单选、多选类型至少需要一个选项。")})
        if self.datatype not in LIST_DATATYPES and values:
            raise ValidationError({"values": _("只有单选、多选类型可以设置选项。")})
        if self.category_id and self.category.parent_id is None:
            raise ValidationError({"category": _("请选择二级分类。")})


class ServiceRequest(models.Model):
    """Open311 提交记录: what a POST brought beyond the appeal, and which client sent it.

    ``token`` is the stable id of the submission (derived from the client's idempotency key, or
    from the request itself when it has none); ``tokens/{token}`` answers with the request id.
    """

    appeal = models.OneToOneField(Appeal, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="open311")
    client = models.ForeignKey(ApiClient, verbose_name=_("客户端"), on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(_("令牌"), max_length=64, unique=True)
    media_url = models.URLField(_("媒体链接"), max_length=500, blank=True)
    address_id = models.CharField(_("地址编码"), max_length=40, blank=True)
    device_id = models.CharField(_("设备编号"), max_length=100, blank=True)
    account_id = models.CharField(_("账户编号"), max_length=100, blank=True)
    email = EncryptedCharField(_("电子邮箱"), blank=True, default="")
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 提交记录")
        verbose_name_plural = _("Open311 提交记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} ← {self.client_id}"


class RequestAttributeValue(models.Model):
    """One answer to a service attribute (a multivaluelist answer is one row per chosen key)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="attribute_values")
    attribute = models.ForeignKey(ServiceAttribute, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    code = models.CharField(_("属性编码"), max_length=40)
    value = models.TextField(_("填写内容"))

    class Meta:
        verbose_name = _("属性填写")
        verbose_name_plural = _("属性填写")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.code}={self.value[:40]}"

    def label(self) -> Any:
        """The chosen option's name for list datatypes, the value itself otherwise."""
        if self.attribute is not None and self.attribute.datatype in LIST_DATATYPES:
            for option in self.attribute.values or []:
                if isinstance(option, dict) and str(option.get("key")) == self.value:
                    return option.get("name") or self.value
        return self.value
