"""The whole-population registry (全员人口): persons, households, buildings and housing units, rentals,
residence history, employment, residence permits, points-based settlement and corrections.

History is never overwritten: a move ends a ``Residence`` and opens another, a household change
ends a ``HouseholdMember`` row, a corrected field leaves a ``PersonChange`` row with the old value.

Scoping (``places.selectors.scoped``): ``Person.unit`` is the grid of the person's current primary
residence (the last one when they have moved away, the registering unit when they never had one),
kept by the services, so "people in my area" is one indexed prefix query on ``OrgUnit.path``.
Buildings and housing units carry their grid; the rest scope through the person or the unit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from zhucheng.core.fields import EncryptedCharField, HashField
from zhucheng.core.models import TimeStampedModel
from zhucheng.places.models import OrgUnit


class NameTrigramIndex(GinIndex):
    """A GIN ``gin_trgm_ops`` index on PostgreSQL (substring search by name); a plain index elsewhere.

    Declared in ``Meta`` so migrations track it; SQLite cannot build GIN indexes, so there it
    becomes an ordinary b-tree index (harmless). The ``pg_trgm`` extension is created by the
    migration that adds it (``TrigramExtension``, which does nothing on other databases).
    """

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return models.Index.create_sql(self, model, schema_editor, using=using, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)


class LookupHash(HashField):
    """A ``HashField`` indexed only where the model says (a partial unique index, a plain ``Meta`` index).

    ``HashField`` defaults ``db_index`` to True and its deconstruction drops an explicit False,
    so migrations would index it anyway (twice on PostgreSQL, with a ``_like`` index nobody uses);
    keeping ``db_index=False`` in the migration saves two indexes per hash on every bulk load.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["db_index"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("db_index", None)
        return name, path, args, kwargs


# --- choices ------------------------------------------------------------------------------------


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class DocType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("外国护照")
    HK_MACAO = "hk_macao", _("港澳居民来往内地通行证")
    TAIWAN = "taiwan", _("台湾居民来往大陆通行证")


class Education(models.TextChoices):
    UNKNOWN = "", _("未知")
    NONE = "none", _("未上过学")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中专/中职")
    COLLEGE = "college", _("大专")
    BACHELOR = "bachelor", _("大学本科")
    MASTER = "master", _("硕士研究生")
    DOCTOR = "doctor", _("博士研究生")


class EmploymentStatus(models.TextChoices):
    UNKNOWN = "", _("未知")
    EMPLOYED = "employed", _("在业")
    UNEMPLOYED = "unemployed", _("失业/待业")
    RETIRED = "retired", _("离退休")
    STUDENT = "student", _("在校学生")
    CHILD = "child", _("学龄前儿童")
    UNABLE = "unable", _("丧失劳动能力")
    OTHER = "other", _("其他")


class ResidenceKind(models.TextChoices):
    PERMANENT = "permanent", _("户籍人口")
    MIGRANT = "migrant", _("流动人口")


class ResidenceEnd(models.TextChoices):
    MOVED = "moved", _("迁出")
    DEATH = "death", _("死亡")
    OTHER = "other", _("其他")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女/外孙子女")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    CHILD_IN_LAW = "child_in_law", _("儿媳/女婿")
    OTHER_RELATIVE = "other_relative", _("其他亲属")
    NON_RELATIVE = "non_relative", _("非亲属")


class HouseholdKind(models.TextChoices):
    FAMILY = "family", _("家庭户")
    COLLECTIVE = "collective", _("集体户")


class MembershipEnd(models.TextChoices):
    SPLIT = "split", _("分户")
    MERGED = "merged", _("并户")
    DEATH = "death", _("死亡")
    MOVED = "moved", _("迁出")
    OTHER = "other", _("其他")


class BuildingKind(models.TextChoices):
    RESIDENTIAL = "residential", _("住宅楼")
    RURAL_HOUSE = "rural_house", _("农村自建房")
    MIXED = "mixed", _("商住楼")
    COMMERCIAL = "commercial", _("商业/办公")
    DORMITORY = "dormitory", _("集体宿舍")


class UnitUse(models.TextChoices):
    RESIDENCE = "residence", _("居住")
    BUSINESS = "business", _("经营")
    MIXED = "mixed", _("居住兼经营")
    OTHER = "other", _("其他")


class TenancyUse(models.TextChoices):
    RESIDENCE = "residence", _("居住")
    BUSINESS = "business", _("经营")
    WAREHOUSE = "warehouse", _("仓储")
    PRODUCTION = "production", _("生产加工")
    OTHER = "other", _("其他")


class PermitKind(models.TextChoices):
    RESIDENCE_PERMIT = "residence_permit", _("居住证")
    GREEN_CARD = "green_card", _("城市绿卡")


class PermitState(models.TextChoices):
    APPLIED = "applied", _("已申请")
    ISSUED = "issued", _("有效")
    REFUSED = "refused", _("不予办理")
    EXPIRED = "expired", _("已过期")
    REVOKED = "revoked", _("已注销")


class PointsState(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    SCORED = "scored", _("已评分")
    APPROVED = "approved", _("准予入户")
    WAITLISTED = "waitlisted", _("未入围")
    REJECTED = "rejected", _("不予受理")


class RuleKind(models.TextChoices):
    RESIDENCE_YEARS = "residence_years", _("居住年限")
    INSURANCE_YEARS = "insurance_years", _("社保缴纳年限")
    EDUCATION = "education", _("文化程度")
    SKILL = "skill", _("职业技能")
    AWARD = "award", _("表彰奖励")
    DEDUCTION = "deduction", _("扣分项")


class CorrectionState(models.TextChoices):
    PENDING = "pending", _("待处理")
    ACCEPTED = "accepted", _("已更正")
    REJECTED = "rejected", _("不予更正")


class Source(models.TextChoices):
    SERVICE = "service", _("业务办理")
    IMPORT = "import", _("批量导入")
    DEMO = "demo", _("演示数据")


# --- people -------------------------------------------------------------------------------------


class Person(TimeStampedModel):
    """人员: one natural person, with or without a mainland resident ID.

    ``id_number`` (居民身份证号码) and ``doc_number`` (other documents) are encrypted; their keyed
    hashes find a person exactly. A person has either an ID number or a document type and number.
    """

    name = models.CharField(_("姓名"), max_length=60)
    doc_type = models.CharField(_("证件类型"), max_length=16, choices=DocType.choices, default=DocType.RESIDENT_ID)
    id_number = EncryptedCharField(_("公民身份号码"), blank=True, default="", hash_field="id_number_hash")
    id_number_hash = LookupHash()
    doc_number = EncryptedCharField(_("证件号码"), blank=True, default="", hash_field="doc_number_hash")
    doc_number_hash = LookupHash()
    phone = EncryptedCharField(_("联系电话"), blank=True, default="", hash_field="phone_hash")
    phone_hash = LookupHash()
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    nationality = models.CharField(_("国籍/地区"), max_length=40, blank=True, default="中国")
    hukou_place = models.CharField(_("户籍地"), max_length=120, blank=True)
    education = models.CharField(_("文化程度"), max_length=12, choices=Education.choices, blank=True)
    employment_status = models.CharField(_("就业状况"), max_length=12, choices=EmploymentStatus.choices, blank=True)
    # 五个清楚 "care needs known": None until someone has asked; the text may then stay empty (no needs).
    care_needs = models.TextField(_("关爱需求"), blank=True)
    care_needs_known_at = models.DateField(_("关爱需求核实日期"), null=True, blank=True)
    died_on = models.DateField(_("死亡日期"), null=True, blank=True)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="registry_persons")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("居民账户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_person",
    )
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.SERVICE)

    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        constraints = [
            models.UniqueConstraint(fields=["id_number_hash"], condition=~Q(id_number_hash=""), name="person_id_number_unique"),
            models.UniqueConstraint(
                fields=["doc_type", "doc_number_hash"], condition=~Q(doc_number_hash=""), name="person_doc_number_unique"
            ),
            models.CheckConstraint(
                condition=~Q(id_number_hash="") | ~Q(doc_number_hash=""), name="person_has_identifier"
            ),
        ]
        indexes = [
            NameTrigramIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="person_name_trgm"),
            # Prefix search (LIKE '王伟%') whatever the database collation.
            models.Index(fields=["name"], opclasses=["varchar_pattern_ops"], name="person_name_prefix"),
            models.Index(fields=["phone_hash"], name="person_phone_hash"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deceased(self) -> bool:
        return self.died_on is not None

    @property
    def identifier(self) -> str:
        """The identifying number, whichever document it is (decrypted: never put it on a page unmasked)."""
        return self.id_number if self.doc_type == DocType.RESIDENT_ID else self.doc_number


class PersonChange(models.Model):
    """更正记录: one field of a person changed, with the value before and after (encrypted), who and why."""

    person = models.ForeignKey(Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="changes")
    field = models.CharField(_("字段"), max_length=40)
    old_value = EncryptedCharField(_("原值"), blank=True, default="")
    new_value = EncryptedCharField(_("新值"), blank=True, default="")
    changed_at = models.DateTimeField(_("时间"), auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("理由"), blank=True)
    correction = models.ForeignKey(
        "CorrectionRequest", verbose_name=_("更正申请"), null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )

    scope_unit_field = "person__unit"

    class Meta:
        verbose_name = _("信息变更记录")
        verbose_name_plural = _("信息变更记录")
        ordering = ["person", "changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.field} {self.changed_at:%Y-%m-%d}"


# --- housing ------------------------------------------------------------------------------------


class Building(TimeStampedModel):
    """楼栋/房屋: a building at one door plate (门牌), placed in a grid by its point."""

    door_plate = models.CharField(_("门牌"), max_length=120, unique=True)
    address = models.CharField(_("地址"), max_length=200)
    name = models.CharField(_("小区/楼栋名称"), max_length=100, blank=True)
    kind = models.CharField(_("房屋类型"), max_length=16, choices=BuildingKind.choices, default=BuildingKind.RESIDENTIAL)
    floors = models.PositiveSmallIntegerField(_("层数"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    grid = models.ForeignKey(OrgUnit, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="registry_buildings")

    scope_unit_field = "grid"

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["door_plate"]

    def __str__(self) -> str:
        return self.door_plate


class HousingUnit(TimeStampedModel):
    """房屋单元: one dwelling or premises in a building (``3单元502``).

    ``grid`` repeats the building's grid so scoping and the completeness rollup need no join.
    The ``known_*`` flags are the five knowns (五个清楚) of this unit, recomputed by
    ``registry.completeness.refresh_units`` whenever an event touches the unit.
    """

    building = models.ForeignKey(Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="units")
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="registry_housing_units", db_index=False
    )
    number = models.CharField(_("室号"), max_length=40)
    use = models.CharField(_("用途"), max_length=12, choices=UnitUse.choices, default=UnitUse.RESIDENCE)
    area_m2 = models.FloatField(_("建筑面积(平方米)"), null=True, blank=True)
    owner = models.ForeignKey(
        Person, verbose_name=_("产权人"), null=True, blank=True, on_delete=models.PROTECT, related_name="owned_units"
    )
    owner_name = models.CharField(_("产权单位"), max_length=200, blank=True)
    vacant_confirmed_on = models.DateField(_("核实空置日期"), null=True, blank=True)
    known_door_plate = models.BooleanField(_("门牌清楚"), default=False)
    known_occupants = models.BooleanField(_("人员清楚"), default=False)
    known_occupations = models.BooleanField(_("职业清楚"), default=False)
    known_moves = models.BooleanField(_("来去清楚"), default=False)
    known_care = models.BooleanField(_("关爱需求清楚"), default=False)

    scope_unit_field = "grid"

    class Meta:
        verbose_name = _("房屋单元")
        verbose_name_plural = _("房屋单元")
        ordering = ["building", "number"]
        constraints = [models.UniqueConstraint(fields=["building", "number"], name="housing_unit_number_unique")]
        indexes = [
            # Covers the completeness rollup (an index-only scan grouped by grid).
            models.Index(
                fields=["grid", "known_door_plate", "known_occupants", "known_occupations", "known_moves", "known_care"],
                name="housing_unit_grid_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.building.door_plate} {self.number}" if self.building_id else self.number

    @property
    def known_all(self) -> bool:
        return all((self.known_door_plate, self.known_occupants, self.known_occupations, self.known_moves, self.known_care))


class Residence(models.Model):
    """居住登记: a person living at a housing unit from a date to a date (open while current).

    Never edited in place once ended: a move out sets ``to_date``; a wrong row is voided with a
    reason (``is_void``) and a new one recorded, so the residence history stays readable.
    """

    person = models.ForeignKey(Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="residences")
    housing_unit = models.ForeignKey(HousingUnit, verbose_name=_("房屋单元"), on_delete=models.PROTECT, related_name="residences")
    kind = models.CharField(_("人口类别"), max_length=10, choices=ResidenceKind.choices)
    is_primary = models.BooleanField(_("主要居住地"), default=True)
    from_date = models.DateField(_("入住日期"), null=True, blank=True)
    to_date = models.DateField(_("迁出日期"), null=True, blank=True)
    ended_reason = models.CharField(_("迁出原因"), max_length=10, choices=ResidenceEnd.choices, blank=True)
    arrived_from = models.CharField(_("从何处来"), max_length=200, blank=True)
    departed_to = models.CharField(_("去往何处"), max_length=200, blank=True)
    is_void = models.BooleanField(_("已作废"), default=False)
    void_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.SERVICE)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    scope_unit_field = "housing_unit__grid"

    class Meta:
        verbose_name = _("居住登记")
        verbose_name_plural = _("居住登记")
        ordering = ["person", "from_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(is_primary=True, to_date__isnull=True, is_void=False),
                name="residence_one_current_primary",
            ),
            models.CheckConstraint(
                condition=Q(from_date__isnull=True) | Q(to_date__isnull=True) | Q(from_date__lte=F("to_date")),
                name="residence_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["housing_unit", "to_date"], name="residence_unit_current")]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.housing_unit_id} {self.from_date}–{self.to_date or ''}"

    @property
    def is_current(self) -> bool:
        return self.to_date is None and not self.is_void


class Household(TimeStampedModel):
    """户: a registered household (户籍), its members with their relation to the single head."""

    number = models.CharField(_("户号"), max_length=20, unique=True)
    kind = models.CharField(_("户别"), max_length=12, choices=HouseholdKind.choices, default=HouseholdKind.FAMILY)
    housing_unit = models.ForeignKey(
        HousingUnit, verbose_name=_("户籍地址"), null=True, blank=True, on_delete=models.PROTECT, related_name="households"
    )
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="registry_households")
    formed_on = models.DateField(_("立户日期"), null=True, blank=True)
    dissolved_on = models.DateField(_("销户日期"), null=True, blank=True)
    dissolved_reason = models.CharField(_("销户原因"), max_length=200, blank=True)

    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class HouseholdMember(models.Model):
    """户成员: a person in a household from a date to a date, with the relation to the head.

    (GLOSSARY calls this ``Membership.relation``; ``Membership`` is the staff post in ``places``.)
    """

    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="members")
    person = models.ForeignKey(Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="household_memberships")
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices)
    from_date = models.DateField(_("入户日期"), null=True, blank=True)
    to_date = models.DateField(_("离户日期"), null=True, blank=True)
    end_reason = models.CharField(_("离户原因"), max_length=10, choices=MembershipEnd.choices, blank=True)

    scope_unit_field = "household__unit"

    class Meta:
        verbose_name = _("户成员")
        verbose_name_plural = _("户成员")
        ordering = ["household", "from_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(relation="head", to_date__isnull=True), name="household_one_current_head"
            ),
            models.UniqueConstraint(fields=["person"], condition=Q(to_date__isnull=True), name="person_one_current_household"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.person_id} {self.relation}"


class Tenancy(TimeStampedModel):
    """出租房登记: a housing unit let by a landlord to tenants for a period and a use."""

    housing_unit = models.ForeignKey(HousingUnit, verbose_name=_("房屋单元"), on_delete=models.PROTECT, related_name="tenancies")
    landlord = models.ForeignKey(
        Person, verbose_name=_("出租人"), null=True, blank=True, on_delete=models.PROTECT, related_name="tenancies_as_landlord"
    )
    landlord_name = models.CharField(_("出租单位"), max_length=200, blank=True)
    tenants = models.ManyToManyField(Person, verbose_name=_("承租人"), related_name="tenancies")
    start_date = models.DateField(_("起租日期"))
    end_date = models.DateField(_("到期日期"))
    use = models.CharField(_("用途"), max_length=12, choices=TenancyUse.choices, default=TenancyUse.RESIDENCE)
    rent_fen = models.PositiveIntegerField(_("月租金(分)"), null=True, blank=True)
    ended_on = models.DateField(_("退租日期"), null=True, blank=True)
    end_reason = models.CharField(_("退租原因"), max_length=200, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_unit_field = "housing_unit__grid"

    class Meta:
        verbose_name = _("出租房登记")
        verbose_name_plural = _("出租房登记")
        ordering = ["-start_date", "id"]
        constraints = [models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="tenancy_dates_ordered")]
        indexes = [models.Index(fields=["ended_on", "end_date"], name="tenancy_open_ending")]

    def __str__(self) -> str:
        return f"{self.housing_unit_id} {self.start_date}–{self.end_date}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class Employment(models.Model):
    """就业: a person working for an employer in an occupation from a date to a date."""

    person = models.ForeignKey(Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="employments")
    employer = models.CharField(_("工作单位"), max_length=200)
    employer_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    occupation = models.CharField(_("职业"), max_length=100)
    from_date = models.DateField(_("开始日期"), null=True, blank=True)
    to_date = models.DateField(_("结束日期"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.SERVICE)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    scope_unit_field = "person__unit"

    class Meta:
        verbose_name = _("就业信息")
        verbose_name_plural = _("就业信息")
        ordering = ["person", "from_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_date__isnull=True) | Q(to_date__isnull=True) | Q(from_date__lte=F("to_date")),
                name="employment_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.employer} · {self.occupation}"


# --- permits and points -------------------------------------------------------------------------


class ResidencePermit(TimeStampedModel):
    """居住证 / 城市绿卡: applied for, issued with a number and a validity, renewed, expired or revoked."""

    person = models.ForeignKey(Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="permits")
    kind = models.CharField(_("证件种类"), max_length=20, choices=PermitKind.choices, default=PermitKind.RESIDENCE_PERMIT)
    state = models.CharField(_("状态"), max_length=10, choices=PermitState.choices, default=PermitState.APPLIED)
    number = models.CharField(_("证件号码"), max_length=30, unique=True, null=True, blank=True)
    housing_unit = models.ForeignKey(
        HousingUnit, verbose_name=_("居住地址"), null=True, blank=True, on_delete=models.PROTECT, related_name="permits"
    )
    applied_on = models.DateField(_("申请日期"))
    issued_on = models.DateField(_("发证日期"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    renewed_count = models.PositiveSmallIntegerField(_("签注次数"), default=0)
    closed_on = models.DateField(_("注销/过期日期"), null=True, blank=True)
    reason = models.TextField(_("办理意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_unit_field = "person__unit"

    class Meta:
        verbose_name = _("居住证")
        verbose_name_plural = _("居住证")
        ordering = ["-applied_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind"], condition=Q(state__in=["applied", "issued"]), name="permit_one_open_per_kind"
            )
        ]
        indexes = [models.Index(fields=["state", "valid_until"], name="permit_state_valid_until")]

    def __str__(self) -> str:
        return self.number or f"{self.get_kind_display()} ({self.get_state_display()})"


class PointsRule(models.Model):
    """积分规则: one admin-configured scoring rule for points-based settlement.

    ``params`` by kind: ``residence_years``/``insurance_years`` → ``{"per_year": 2, "max": 20}``;
    ``education``/``skill`` → ``{"levels": {"bachelor": 20, …}}``; ``award`` → ``{"levels":
    {"city": 5, "province": 10, "national": 20}, "max": 30}``; ``deduction`` → ``{"per_item": 10}``
    (subtracted). Inactive rules are kept for earlier years' breakdowns.
    """

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=20, choices=RuleKind.choices)
    params = models.JSONField(_("参数"), default=dict)
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class PointsQuota(models.Model):
    """积分入户年度名额."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    quota = models.PositiveIntegerField(_("名额"))

    class Meta:
        verbose_name = _("积分入户年度名额")
        verbose_name_plural = _("积分入户年度名额")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.quota}"


class PointsApplication(TimeStampedModel):
    """积分入户申请: claimed facts, the score with its breakdown, the rank in the year and the decision."""

    person = models.ForeignKey(Person, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="points_applications")
    year = models.PositiveSmallIntegerField(_("年度"))
    # What the applicant claims and staff verify: insurance_years, skill, awards [...], deductions [...].
    facts = models.JSONField(_("申报事项"), default=dict, blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=PointsState.choices, default=PointsState.SUBMITTED)
    score = models.DecimalField(_("总分"), max_digits=7, decimal_places=2, null=True, blank=True)
    breakdown = models.JSONField(_("得分明细"), default=list, blank=True)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)
    decision_reasons = models.TextField(_("决定理由"), blank=True)
    submitted_on = models.DateField(_("提交日期"))
    scored_at = models.DateTimeField(_("评分时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("决定人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_unit_field = "person__unit"

    class Meta:
        verbose_name = _("积分入户申请")
        verbose_name_plural = _("积分入户申请")
        ordering = ["year", "rank", "id"]
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="points_one_per_person_year")]
        indexes = [models.Index(fields=["year", "state", "score"], name="points_year_state_score")]

    def __str__(self) -> str:
        return f"{self.year} {self.person_id} {self.score}"


class CorrectionField(models.TextChoices):
    NAME = "name", _("姓名")
    SEX = "sex", _("性别")
    BIRTH_DATE = "birth_date", _("出生日期")
    ETHNICITY = "ethnicity", _("民族")
    HUKOU_PLACE = "hukou_place", _("户籍地")
    EDUCATION = "education", _("文化程度")
    PHONE = "phone", _("联系电话")
    ID_NUMBER = "id_number", _("公民身份号码")
    OTHER = "other", _("其他")


class CorrectionRequest(TimeStampedModel):
    """更正申请 (PIPL right to correction): a resident (or staff for them) asks to correct one field.

    ``current_value_masked`` is what was held when asked, masked; on acceptance the full old
    value goes to a ``PersonChange`` row and the person is updated.
    """

    person = models.ForeignKey(Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="correction_requests")
    field = models.CharField(_("更正事项"), max_length=20, choices=CorrectionField.choices)
    current_value_masked = models.CharField(_("现登记内容"), max_length=200, blank=True)
    requested_value = EncryptedCharField(_("申请更正为"), blank=True, default="")
    reason = models.TextField(_("申请理由"))
    state = models.CharField(_("状态"), max_length=10, choices=CorrectionState.choices, default=CorrectionState.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("处理人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_reason = models.TextField(_("处理意见"), blank=True)

    scope_unit_field = "person__unit"

    class Meta:
        verbose_name = _("更正申请")
        verbose_name_plural = _("更正申请")
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["state", "created_at"], name="correction_state_created")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.field} ({self.state})"
