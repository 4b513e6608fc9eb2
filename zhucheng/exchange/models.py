"""Data exchange (日交换): department feeds, import batches, quarantined rows, source records,
the clerical review queue (人工复核) and merges with provenance.

* ``Feed`` (数据交换接口): what a department sends — record type, file format, encoding, the
  column mapping onto the registry's collection standard (采集规范) and the schedule.
* ``ImportBatch`` (交换批次): one received file. Never applied twice: the file hash is unique per
  feed, and every good row's key is unique per feed (``SourceRecord``).
* ``RowIssue`` (隔离行): a rejected row with its row number, field and reason.
* ``SourceRecord`` (来源记录): a good row as the department sent it (raw and cleaned values,
  encrypted), staged, then linked to a registry ``Person``: attached, new, held for review.
* ``ReviewItem`` (人工复核): a possible match awaiting a one-key decision; decisions are kept and
  give the precision at each threshold.
* ``MergeEvent`` (合并记录) and ``FieldProvenance`` (字段来源): what a merge did, so it can be undone,
  and which value of a person came from which feed and when. Registry history is never
  overwritten: field changes go through ``registry.services.person_update`` (``PersonChange`` rows).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhucheng.core.fields import EncryptedCharField
from zhucheng.core.models import TimeStampedModel
from zhucheng.places.models import Department, OrgUnit
from zhucheng.registry.models import Person


class RecordType(models.TextChoices):
    PERSON = "person", _("人员信息")


class FileFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")
    JSONL = "jsonl", _("JSON Lines")


class Encoding(models.TextChoices):
    UTF8 = "utf-8", _("UTF-8")
    GB18030 = "gb18030", _("GB18030")


class BatchState(models.TextChoices):
    RECEIVED = "received", _("已接收")
    VALIDATING = "validating", _("校验中")
    VALIDATED = "validated", _("已校验")
    LINKING = "linking", _("比对中")
    REVIEW = "review", _("待人工复核")
    DONE = "done", _("已完成")
    FAILED = "failed", _("文件不合格")


class RecordState(models.TextChoices):
    STAGED = "staged", _("已暂存")
    MERGED = "merged", _("已并入")
    NEW = "new", _("新建人员")
    REVIEW = "review", _("待复核")
    HELD = "held", _("暂挂(缺证件号)")
    UNMERGED = "unmerged", _("已撤销合并")


class ReviewState(models.TextChoices):
    PENDING = "pending", _("待复核")
    ACCEPTED = "accepted", _("确认同一人")
    REJECTED = "rejected", _("不是同一人")


class MergeKind(models.TextChoices):
    ATTACH = "attach", _("来源记录并入人员")
    PERSONS = "persons", _("两人合并")


class MergeVia(models.TextChoices):
    AUTO = "auto", _("自动(确定匹配)")
    REVIEW = "review", _("人工复核")
    ID_EXACT = "id_exact", _("身份证号一致")
    MANUAL = "manual", _("手工")


class ProvenanceStatus(models.TextChoices):
    SAME = "same", _("与登记一致")
    FILLED = "filled", _("补充空缺")
    DIFFERS = "differs", _("与登记不一致(未采用)")
    ORIGIN = "origin", _("新建时采用")


class Feed(TimeStampedModel):
    """数据交换接口: one department's regular file (公安 户籍, 住建 租赁, 人社 就业, 卫健 出生, 民政 救助…)."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    department = models.ForeignKey(Department, verbose_name=_("报送部门"), on_delete=models.PROTECT, related_name="exchange_feeds")
    record_type = models.CharField(_("数据类型"), max_length=20, choices=RecordType.choices, default=RecordType.PERSON)
    file_format = models.CharField(_("文件格式"), max_length=8, choices=FileFormat.choices, default=FileFormat.CSV)
    encoding = models.CharField(_("字符编码"), max_length=10, choices=Encoding.choices, default=Encoding.UTF8)
    # {"source column": "standard field"}; standard fields are registry.standard_batch.IMPORT_COLUMNS
    # plus "address" (free text, for matching) and "source_key" (the department's own record id).
    mapping = models.JSONField(_("字段映射"), default=dict)
    schedule = models.CharField(_("报送周期"), max_length=100, blank=True, help_text=_("如:每日 02:00"))
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("新建人员默认所属单位"), on_delete=models.PROTECT, related_name="exchange_feeds",
        help_text=_("行中没有网格编码时,新人员登记到此单位"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    scope_unit_field = "unit"
    scope_department_field = "department"

    class Meta:
        verbose_name = _("数据交换接口")
        verbose_name_plural = _("数据交换接口")
        ordering = ["department__code", "code"]

    def __str__(self) -> str:
        return self.name


class ImportBatch(TimeStampedModel):
    """交换批次: one file received on a feed, validated row by row, then linked to the registry."""

    feed = models.ForeignKey(Feed, verbose_name=_("接口"), on_delete=models.PROTECT, related_name="batches")
    file_name = models.CharField(_("文件名"), max_length=200)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64)
    upload = models.FileField(_("文件"), upload_to="exchange/%Y/%m/", blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=BatchState.choices, default=BatchState.RECEIVED)
    failure = models.TextField(_("不合格原因"), blank=True)
    received_at = models.DateTimeField(_("接收时间"))
    validated_at = models.DateTimeField(_("校验时间"), null=True, blank=True)
    linked_at = models.DateTimeField(_("比对时间"), null=True, blank=True)
    progress_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    progress_total = models.PositiveIntegerField(_("总行数"), default=0)
    received = models.PositiveIntegerField(_("接收行数"), default=0)
    rejected = models.PositiveIntegerField(_("隔离行数"), default=0)
    duplicates = models.PositiveIntegerField(_("重复报送行数"), default=0)
    staged = models.PositiveIntegerField(_("暂存行数"), default=0)
    matched = models.PositiveIntegerField(_("匹配到已有人员"), default=0)
    new = models.PositiveIntegerField(_("新建人员"), default=0)
    queued = models.PositiveIntegerField(_("转人工复核"), default=0)
    auto_merged = models.PositiveIntegerField(_("自动合并"), default=0)
    held = models.PositiveIntegerField(_("暂挂"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_unit_field = "feed__unit"
    scope_department_field = "feed__department"

    class Meta:
        verbose_name = _("交换批次")
        verbose_name_plural = _("交换批次")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["feed", "file_sha256"], name="exchange_batch_file_once")]
        indexes = [models.Index(fields=["received_at"], name="exchange_batch_received")]

    def __str__(self) -> str:
        return f"{self.feed.code} {self.file_name}"

    @property
    def is_running(self) -> bool:
        return self.state in (BatchState.RECEIVED, BatchState.VALIDATING, BatchState.VALIDATED, BatchState.LINKING)

    @property
    def percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else (0 if self.is_running else 100)


class RowIssue(models.Model):
    """隔离行: a row (0 for the file itself) refused for one reason on one field; raw values kept encrypted."""

    batch = models.ForeignKey(ImportBatch, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField(_("行号"))
    field = models.CharField(_("字段"), max_length=40, blank=True)
    column = models.CharField(_("源列名"), max_length=100, blank=True)
    code = models.CharField(_("原因代码"), max_length=40)
    message = models.TextField(_("原因"))
    raw = EncryptedCharField(_("原始内容"), blank=True, default="")

    scope_unit_field = "batch__feed__unit"
    scope_department_field = "batch__feed__department"

    class Meta:
        verbose_name = _("隔离行")
        verbose_name_plural = _("隔离行")
        ordering = ["batch", "row", "id"]
        indexes = [models.Index(fields=["batch", "code"], name="exchange_issue_batch_code")]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.row} {self.field} {self.code}"

    @property
    def field_label(self) -> str:
        """The field's name in the collection standard (公民身份号码, 出生日期…)."""
        from zhucheng.registry.standard import FIELD_LABELS

        return FIELD_LABELS.get(self.field, (self.field, self.field))[0] if self.field else ""


class SourceRecord(models.Model):
    """来源记录: one good row of a batch as received (raw and cleaned values, encrypted) and where it went."""

    feed = models.ForeignKey(Feed, verbose_name=_("接口"), on_delete=models.PROTECT, related_name="records")
    batch = models.ForeignKey(ImportBatch, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="records")
    row = models.PositiveIntegerField(_("行号"))
    row_key = models.CharField(_("行摘要"), max_length=64)
    raw_json = EncryptedCharField(_("原始内容"), blank=True, default="")
    cleaned_json = EncryptedCharField(_("规范化内容"), blank=True, default="")
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    received_at = models.DateTimeField(_("接收时间"))
    state = models.CharField(_("状态"), max_length=10, choices=RecordState.choices, default=RecordState.STAGED)
    person = models.ForeignKey(
        Person, verbose_name=_("人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="source_records"
    )
    match_probability = models.FloatField(_("匹配概率"), null=True, blank=True)
    match_weight = models.FloatField(_("匹配权重"), null=True, blank=True)
    linked_at = models.DateTimeField(_("比对时间"), null=True, blank=True)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="+")

    scope_unit_field = "unit"
    scope_department_field = "feed__department"

    class Meta:
        verbose_name = _("来源记录")
        verbose_name_plural = _("来源记录")
        ordering = ["batch", "row"]
        constraints = [models.UniqueConstraint(fields=["feed", "row_key"], name="exchange_record_key_once")]
        indexes = [models.Index(fields=["batch", "state"], name="exchange_record_batch_state")]

    def __str__(self) -> str:
        return f"{self.feed_id}:{self.batch_id}#{self.row}"

    @property
    def raw(self) -> dict[str, Any]:
        return json.loads(self.raw_json) if self.raw_json else {}

    @property
    def cleaned(self) -> dict[str, Any]:
        return json.loads(self.cleaned_json) if self.cleaned_json else {}


class ReviewItem(TimeStampedModel):
    """人工复核: a possible match (a source record and a registry person, or two registry persons)."""

    record = models.ForeignKey(
        SourceRecord, verbose_name=_("来源记录"), null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    person = models.ForeignKey(Person, verbose_name=_("候选人员"), on_delete=models.PROTECT, related_name="exchange_reviews")
    other_person = models.ForeignKey(
        Person, verbose_name=_("疑似重复人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="exchange_reviews_as_other"
    )
    match_probability = models.FloatField(_("匹配概率"))
    match_weight = models.FloatField(_("匹配权重"))
    waterfall = models.JSONField(_("比对明细"), default=list, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("复核人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    note = models.CharField(_("复核意见"), max_length=200, blank=True)

    scope_unit_field = "person__unit"

    class Meta:
        verbose_name = _("人工复核")
        verbose_name_plural = _("人工复核")
        ordering = ["state", "-match_probability", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "person"], condition=Q(record__isnull=False), name="exchange_review_once"),
            models.CheckConstraint(condition=Q(record__isnull=False) | Q(other_person__isnull=False), name="exchange_review_has_pair"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="exchange_review_state")]

    def __str__(self) -> str:
        return f"{self.record_id or self.other_person_id}~{self.person_id} {self.match_probability:.3f}"


class MergeEvent(models.Model):
    """合并记录: a source record attached to a person, or two persons merged; undone by ``unmerge``.

    ``before`` holds (encrypted JSON) what is needed to restore exactly: the persons' fields before
    the merge, the fields changed and the source records moved.
    """

    kind = models.CharField(_("类型"), max_length=10, choices=MergeKind.choices)
    via = models.CharField(_("方式"), max_length=10, choices=MergeVia.choices)
    person = models.ForeignKey(Person, verbose_name=_("保留人员"), on_delete=models.PROTECT, related_name="exchange_merges")
    absorbed = models.ForeignKey(
        Person, verbose_name=_("被合并人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="exchange_absorbed_by"
    )
    record = models.ForeignKey(
        SourceRecord, verbose_name=_("来源记录"), null=True, blank=True, on_delete=models.PROTECT, related_name="merges"
    )
    review = models.ForeignKey(ReviewItem, verbose_name=_("复核"), null=True, blank=True, on_delete=models.PROTECT, related_name="merges")
    match_probability = models.FloatField(_("匹配概率"), null=True, blank=True)
    before_json = EncryptedCharField(_("合并前状态"), blank=True, default="")
    changed_fields = models.JSONField(_("补充字段"), default=list, blank=True)
    merged_at = models.DateTimeField(_("合并时间"))
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undo_reason = models.CharField(_("撤销理由"), max_length=200, blank=True)

    scope_unit_field = "person__unit"

    class Meta:
        verbose_name = _("合并记录")
        verbose_name_plural = _("合并记录")
        ordering = ["-merged_at", "-id"]
        constraints = [
            # A person is absorbed by at most one live merge.
            models.UniqueConstraint(fields=["absorbed"], condition=Q(undone_at__isnull=True, absorbed__isnull=False), name="exchange_absorbed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.person_id} {self.merged_at:%Y-%m-%d}"

    @property
    def before(self) -> dict[str, Any]:
        return json.loads(self.before_json) if self.before_json else {}

    @property
    def is_live(self) -> bool:
        return self.undone_at is None


class FieldProvenance(models.Model):
    """字段来源: the value a feed gave for one field of a person, when, and what the registry did with it."""

    person = models.ForeignKey(Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="field_provenance")
    field = models.CharField(_("字段"), max_length=40)
    value = EncryptedCharField(_("值"), blank=True, default="")
    record = models.ForeignKey(SourceRecord, verbose_name=_("来源记录"), on_delete=models.PROTECT, related_name="provenance")
    merge = models.ForeignKey(MergeEvent, verbose_name=_("合并记录"), null=True, blank=True, on_delete=models.PROTECT, related_name="provenance")
    status = models.CharField(_("处理"), max_length=10, choices=ProvenanceStatus.choices)
    received_at = models.DateTimeField(_("接收时间"))
    is_live = models.BooleanField(_("有效"), default=True)

    scope_unit_field = "person__unit"

    class Meta:
        verbose_name = _("字段来源")
        verbose_name_plural = _("字段来源")
        ordering = ["person", "field", "received_at", "id"]
        indexes = [models.Index(fields=["person", "field"], name="exchange_provenance_field")]

    def __str__(self) -> str:
        return f"{self.person_id}.{self.field} ← {self.record_id}"
