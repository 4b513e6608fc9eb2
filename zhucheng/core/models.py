"""Shared models: the append-only audit trail and the statutory working-day calendar."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("audit events are append-only: update refused")

    def delete(self) -> Any:
        raise PermissionError("audit events are append-only: delete refused")


class AuditEvent(models.Model):
    """审计记录: one act by one actor, chained to the previous row by SHA-256.

    Never holds secret values: only the names of the fields that changed.
    Written only through ``core.audit.audit_record``.
    """

    occurred_at = models.DateTimeField(_("时间"), db_index=True)
    # No database foreign key: the trail must outlive (and never be rewritten by) user deletion.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人标识"), max_length=150, blank=True)
    act = models.CharField(_("操作"), max_length=80, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    changed_fields = models.JSONField(_("变更字段"), default=list, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True, db_index=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    prev_hash = models.CharField(_("上一条摘要"), max_length=64)
    hash = models.CharField(_("摘要"), max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.act} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit events are append-only: update refused")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("audit events are append-only: delete refused")


class CalendarYear(models.Model):
    """A year whose statutory holidays are known (法定节假日已公布的年度)."""

    year = models.PositiveIntegerField(_("年度"), unique=True)
    source = models.CharField(_("来源"), max_length=40, default="chinesecalendar")
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class HolidayCalendar(models.Model):
    """节假日安排: a day that differs from the Monday–Friday rule.

    A statutory holiday on a weekday (``is_working_day=False``) or an adjusted working
    weekend day (调休上班, ``is_working_day=True``). Days not listed follow the weekday rule.
    """

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.is_working_day else '休'} {self.name}"


class IdempotentRequest(models.Model):
    """幂等请求: the first answer to a write that a client may retry with the same key.

    ``scope`` says whose key it is (``api:user:12``, ``open311:key:3``) so two clients never
    collide; ``fingerprint`` is a hash of the request, so the same key with a different body
    is refused instead of answered with someone else's result. ``status`` 0 = in progress.
    """

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotent_request_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
