"""The collection standard (采集规范): one set of rules for forms, services, bulk imports and the API.

Each check returns ``Violation``s naming the field, a stable code and the reason in Chinese and
in English. Scalar checks (``clean_person``, ``validate_residence``, ``check_residences``, …) are
the reference; ``clean_import_batch`` is their vectorised twin for bulk loading: it accepts a row
on the fast path only when the scalar rules would accept it with the same cleaned values, and
sends every other row through ``clean_import_row`` so rejects carry exactly the same reasons.

Rules (cross-field ones marked ×): the ID number is well formed, its check digit right, its birth
date real and its region known; × birth date and sex equal what the ID number encodes; a person
without a mainland ID has a document type, a number in that document's format and a nationality;
names hold letters only; phone numbers are mainland mobiles or landlines; × tenancy and residence
dates are ordered; × a person has at most one current primary residence; × a person's residences
at the same housing unit do not overlap; × a household has exactly one head.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language

from zhucheng.core.identifiers import normalise_mobile, normalise_resident_id, validate_resident_id

from .errors import RegistryError
from .models import DocType, Education, EmploymentStatus, Relation, ResidenceKind, Sex, TenancyUse

ETHNICITIES: tuple[str, ...] = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族", "白族",
    "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族",
    "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族",
    "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族",
    "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族", "其他", "外国血统中国籍人士",
)  # fmt: skip
_ETHNICITY_SET = frozenset(ETHNICITIES)

# Field → (Chinese label, English label): how violations name the field.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "name": ("姓名", "name"),
    "doc_type": ("证件类型", "document type"),
    "id_number": ("公民身份号码", "resident ID number"),
    "doc_number": ("证件号码", "document number"),
    "nationality": ("国籍/地区", "nationality"),
    "phone": ("联系电话", "phone"),
    "sex": ("性别", "sex"),
    "birth_date": ("出生日期", "date of birth"),
    "ethnicity": ("民族", "ethnicity"),
    "hukou_place": ("户籍地", "place of household registration"),
    "education": ("文化程度", "education"),
    "employment_status": ("就业状况", "employment status"),
    "person": ("人员", "person"),
    "housing_unit": ("房屋单元", "housing unit"),
    "kind": ("类别", "kind"),
    "residence_kind": ("人口类别", "resident type"),
    "from_date": ("开始日期", "start date"),
    "to_date": ("结束日期", "end date"),
    "is_primary": ("主要居住地", "primary residence"),
    "landlord": ("出租人", "landlord"),
    "tenants": ("承租人", "tenants"),
    "start_date": ("起租日期", "tenancy start"),
    "end_date": ("到期日期", "tenancy end"),
    "use": ("用途", "use"),
    "door_plate": ("门牌", "door plate"),
    "address": ("地址", "address"),
    "lat": ("纬度", "latitude"),
    "lon": ("经度", "longitude"),
    "grid": ("网格", "grid"),
    "grid_code": ("网格编码", "grid code"),
    "building": ("楼栋", "building"),
    "number": ("室号", "unit number"),
    "unit_number": ("室号", "unit number"),
    "employer": ("工作单位", "employer"),
    "occupation": ("职业", "occupation"),
    "members": ("户成员", "household members"),
    "relation": ("与户主关系", "relation to the head"),
    "year": ("年度", "year"),
    "facts": ("申报事项", "claimed facts"),
    "reason": ("理由", "reason"),
    "requested_value": ("申请更正为", "requested value"),
    "id_hash": ("公民身份号码", "resident ID number"),
}

# code → (Chinese, English). ``%(label)s`` is the field's label in the message's language.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("%(label)s为必填项。", "The %(label)s is required."),
    "too_long": ("%(label)s不能超过 %(max)s 个字符。", "The %(label)s must not exceed %(max)s characters."),
    "choice": ("%(label)s“%(value)s”不是规定的取值。", "The %(label)s '%(value)s' is not one of the allowed values."),
    "date_format": ("%(label)s“%(value)s”不是有效日期,请写成 2024-05-01 的形式。", "The %(label)s '%(value)s' is not a valid date (write it as 2024-05-01)."),
    "date_future": ("%(label)s不能晚于今天。", "The %(label)s cannot be after today."),
    "date_too_early": ("%(label)s不能早于 1900 年。", "The %(label)s cannot be before 1900."),
    "dates_order": ("%(label)s不能早于%(other)s。", "The %(label)s cannot be before the %(other)s."),
    "dates_order_strict": ("%(label)s必须晚于%(other)s。", "The %(label)s must be after the %(other)s."),
    "name_format": ("姓名只能由汉字或字母组成(少数民族姓名可用间隔号“·”),不能含数字或符号。", "A name may hold only Chinese characters or letters (and the middle dot '·' in minority names), no digits or symbols."),
    "id_format": ("身份证号码应为 18 位:前 17 位是数字,最后一位是数字或字母 X。", "A resident ID number has 18 characters: 17 digits, then a digit or the letter X."),
    "id_checksum": ("身份证号码的校验位与前 17 位不符,请逐位核对是否输错。", "The ID number's check digit does not match its first 17 digits: check each digit."),
    "id_birth_date": ("身份证号码中的出生日期(第 7–14 位)不存在或不合理。", "The date of birth in the ID number (digits 7–14) does not exist or is implausible."),
    "id_region": ("身份证号码前 6 位的地区代码不在行政区划代码表中。", "The region code (first 6 digits) of the ID number is not a known division code."),
    "id_birth_mismatch": ("出生日期 %(value)s 与身份证号码中的 %(expected)s 不一致。", "The date of birth %(value)s differs from %(expected)s in the ID number."),
    "id_sex_mismatch": ("性别与身份证号码第 17 位所示不一致(奇数为男,偶数为女)。", "The sex differs from the ID number's 17th digit (odd for men, even for women)."),
    "id_number_unexpected": ("持%(doc)s的人员不填写公民身份号码,请填在“证件号码”中。", "A person holding a %(doc_en)s has no resident ID number: put the number under 'document number'."),
    "doc_format": ("%(doc)s号码格式不正确:%(rule)s。", "The %(doc_en)s number is malformed: %(rule_en)s."),
    "nationality_required": ("持外国护照的人员须填写国籍。", "A passport holder's nationality is required."),
    "phone_format": ("联系电话应为 11 位手机号码(13–19 开头)或带区号的固定电话,如 0851-85551234。", "A phone number is an 11-digit mobile number (starting 13–19) or a landline with its area code, e.g. 0851-85551234."),
    "primary_not_unique": ("同一人只能有一个当前主要居住地。", "A person can have only one current primary residence."),
    "residence_overlap": ("同一人在同一房屋的居住时段不能重叠(与 %(other)s 起的登记重叠)。", "A person's stays at the same housing unit cannot overlap (overlaps the stay from %(other)s)."),
    "door_plate_format": ("门牌应写明路(街、巷)名和门牌号,如“新华路128号”。", "A door plate names the road (street, lane) and the number, e.g. '新华路128号'."),
    "coordinates_pair": ("经度和纬度须同时填写。", "Latitude and longitude go together: give both or neither."),
    "coordinates_range": ("坐标超出范围(纬度 -90~90,经度 -180~180)。", "Coordinates out of range (latitude -90..90, longitude -180..180)."),
    "location_required": ("须填写坐标或所属网格。", "Give either the coordinates or the grid."),
    "head_count": ("一户必须有且只有一名户主(现有 %(count)s 名)。", "A household must have exactly one head (it has %(count)s)."),
    "member_twice": ("同一人不能在一户中登记两次。", "The same person cannot be listed twice in a household."),
    "landlord_required": ("须填写出租人(个人或单位)。", "The landlord (a person or an organisation) is required."),
    "number_range": ("%(label)s应在 %(min)s 到 %(max)s 之间。", "The %(label)s must be between %(min)s and %(max)s."),
    "tenancy_overlap": ("该房屋在此期间已有出租登记(%(other)s 起)。", "The unit is already let for part of this period (from %(other)s)."),
    "landlord_is_tenant": ("出租人不能同时是承租人。", "The landlord cannot also be a tenant."),
    "before_birth": ("%(label)s不能早于出生日期。", "The %(label)s cannot be before the date of birth."),
    "duplicate_in_file": ("文件中第 %(other)s 行已有同一证件号码,本行未导入。", "Row %(other)s of the file has the same identifier; this row was not loaded."),
    "unknown_grid": ("网格编码“%(value)s”不存在或不是网格。", "The grid code '%(value)s' does not exist or is not a grid."),
    "unknown_housing_unit": ("找不到门牌“%(value)s”下的该室号。", "No such unit number at door plate '%(value)s'."),
    "location_missing": ("须填写网格编码,或门牌和室号。", "Give the grid code, or the door plate and unit number."),
}

_DOC_LABELS: dict[str, tuple[str, str]] = {
    DocType.RESIDENT_ID: ("居民身份证", "resident identity card"),
    DocType.PASSPORT: ("外国护照", "foreign passport"),
    DocType.HK_MACAO: ("港澳居民来往内地通行证", "Mainland Travel Permit for Hong Kong and Macao Residents"),
    DocType.TAIWAN: ("台湾居民来往大陆通行证", "Mainland Travel Permit for Taiwan Residents"),
}
# Document number formats: (pattern, Chinese rule, English rule).
_DOC_FORMATS: dict[str, tuple[re.Pattern[str], str, str]] = {
    DocType.PASSPORT: (re.compile(r"^[A-Z0-9]{5,20}$"), "5–20 位字母或数字", "5–20 letters or digits"),
    DocType.HK_MACAO: (re.compile(r"^[HM]\d{8}(\d{2})?$"), "H 或 M 开头,后接 8 位或 10 位数字", "H or M followed by 8 or 10 digits"),
    DocType.TAIWAN: (re.compile(r"^\d{8}$"), "8 位数字", "8 digits"),
}
_DEFAULT_NATIONALITY = {DocType.RESIDENT_ID: "中国", DocType.TAIWAN: "中国台湾"}

_NAME = re.compile(r"^[\u3400-\u9fff\uf900-\ufaffA-Za-z][\u3400-\u9fff\uf900-\ufaffA-Za-z·. '\-]*$")
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "\u2027": "·"})
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0[1-9]\d{8,10}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-‐‑–—()()]")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
_EARLIEST = date(1900, 1, 1)

# Accepted spellings (code or Chinese label) → code, for fields with choices.
def _spellings(choices: Any, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    out = {str(value): str(value) for value in choices.values}
    out.update({str(label): str(value) for value, label in choices.choices})
    out.update(extra or {})
    return out


SEX_SPELLINGS = _spellings(Sex, {"m": "M", "f": "F", "1": "M", "2": "F", "男性": "M", "女性": "F"})
DOC_TYPE_SPELLINGS = _spellings(DocType, {"": DocType.RESIDENT_ID, "身份证": DocType.RESIDENT_ID, "护照": DocType.PASSPORT})
EDUCATION_SPELLINGS = _spellings(Education)
EMPLOYMENT_SPELLINGS = _spellings(EmploymentStatus)
RESIDENCE_KIND_SPELLINGS = _spellings(ResidenceKind, {"户籍": "permanent", "流动": "migrant", "常住": "permanent"})
TENANCY_USE_SPELLINGS = _spellings(TenancyUse)
RELATION_SPELLINGS = _spellings(Relation)

# Required fields per record type (the published standard; conditional ones noted in the checks).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "person": ("name", "doc_type", "id_number|doc_number", "sex", "birth_date"),
    "residence": ("person", "housing_unit", "kind", "from_date"),
    "household": ("members", "relation"),
    "building": ("door_plate", "address", "lat+lon|grid"),
    "housing_unit": ("building", "number"),
    "tenancy": ("housing_unit", "landlord", "tenants", "start_date", "end_date", "use"),
    "employment": ("person", "employer", "occupation", "from_date"),
    "permit": ("person", "kind"),
    "points_application": ("person", "year", "facts"),
    "correction": ("field", "requested_value", "reason"),
}


@dataclass(frozen=True)
class Violation:
    """One broken rule: which field, a stable code, the reason in Chinese and English, the import row."""

    field: str
    code: str
    message_zh: str
    message_en: str
    row: int | None = None

    @property
    def message(self) -> str:
        """The reason in the active language (Chinese unless English is active)."""
        return self.message_en if (get_language() or "").startswith("en") else self.message_zh

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "code": self.code, "message_zh": self.message_zh, "message_en": self.message_en}
        if self.row is not None:
            out["row"] = self.row
        return out

    def at_row(self, row: int | None) -> Violation:
        return replace(self, row=row)


def violation(field: str, code: str, *, row: int | None = None, other: str = "", **params: Any) -> Violation:
    """Build a violation from the message table; labels of ``field`` (and ``other``) are filled in per language."""
    zh, en = MESSAGES[code]
    label = FIELD_LABELS.get(field, (field, field))
    other_label = FIELD_LABELS.get(other, (other, other))
    zh_params = {**params, "label": label[0], "other": other_label[0] if other else params.get("other_value", "")}
    en_params = {**params, "label": label[1], "other": other_label[1] if other else params.get("other_value", "")}
    return Violation(field, code, zh % zh_params, en % en_params, row)


def raise_for(violations: Sequence[Violation]) -> None:
    """Refuse an act that breaks the standard: ``RegistryError`` with the first reason and all violations."""
    if violations:
        first = violations[0]
        raise RegistryError(first.message, code=first.code, field=first.field, row=first.row, violations=violations)


def error(field: str, code: str, **params: Any) -> RegistryError:
    """A ``RegistryError`` for one rule of the standard (to raise where a service finds the violation itself)."""
    v = violation(field, code, **params)
    return RegistryError(v.message, code=v.code, field=v.field, violations=[v])


# --- value cleaning -------------------------------------------------------------------------------


def text(value: Any) -> str:
    """Trimmed text; None becomes ""."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def parse_date(value: Any) -> date | None:
    """A date from a date, a datetime or text in one of the accepted forms; None when empty; ValueError when unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = unicodedata.normalize("NFKC", str(value)).strip()
    if not raw:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    raise ValueError(raw)


def normalise_phone(value: Any) -> str:
    """Digits of a mobile (country prefix removed) or landline number."""
    raw = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text(value)))
    return normalise_mobile(raw) if raw.startswith(("1", "+86", "0086", "86")) else raw


def normalise_name(value: Any) -> str:
    return unicodedata.normalize("NFKC", text(value)).translate(_NAME_DOTS) if value is not None else ""


def _choice(out: dict[str, Any], errors: list[Violation], data: Mapping[str, Any], field: str, spellings: Mapping[str, str], row: int | None) -> None:
    raw = text(data.get(field))
    if raw in spellings:
        out[field] = spellings[raw]
    elif raw.lower() in spellings:
        out[field] = spellings[raw.lower()]
    else:
        out[field] = raw
        errors.append(violation(field, "choice", row=row, value=raw))


def _date_field(out: dict[str, Any], errors: list[Violation], data: Mapping[str, Any], field: str, row: int | None, today: date, *, required: bool) -> date | None:
    try:
        value = parse_date(data.get(field))
    except ValueError:
        errors.append(violation(field, "date_format", row=row, value=text(data.get(field))))
        out[field] = None
        return None
    if value is None and required:
        errors.append(violation(field, "required", row=row))
    elif value is not None and value > today:
        errors.append(violation(field, "date_future", row=row))
    out[field] = value
    return value


def _max_len(out: dict[str, Any], errors: list[Violation], field: str, limit: int, row: int | None) -> None:
    if len(out.get(field) or "") > limit:
        errors.append(violation(field, "too_long", row=row, max=limit))


# --- persons --------------------------------------------------------------------------------------


def clean_person(data: Mapping[str, Any], *, row: int | None = None, today: date | None = None) -> tuple[dict[str, Any], list[Violation]]:
    """Cleaned person fields and every violation of the standard.

    Keys read: name, doc_type, id_number, doc_number, nationality, phone, sex, birth_date,
    ethnicity, hukou_place, education, employment_status. Sex and birth date are taken from
    the ID number when left empty, and must agree with it when given.
    """
    today = today or timezone.localdate()
    out: dict[str, Any] = {}
    errors: list[Violation] = []

    out["name"] = normalise_name(data.get("name"))
    if not out["name"]:
        errors.append(violation("name", "required", row=row))
    elif not _NAME.match(out["name"]):
        errors.append(violation("name", "name_format", row=row))
    _max_len(out, errors, "name", 60, row)

    _choice(out, errors, data, "doc_type", DOC_TYPE_SPELLINGS, row)
    doc_type = out["doc_type"]
    id_number = normalise_resident_id(data.get("id_number"))
    out["id_number"], out["doc_number"] = "", ""
    id_birth: date | None = None
    id_sex = ""
    if doc_type == DocType.RESIDENT_ID:
        if not id_number:
            errors.append(violation("id_number", "required", row=row))
        else:
            try:
                out["id_number"] = validate_resident_id(id_number)
                id_birth = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
                id_sex = Sex.MALE if int(id_number[16]) % 2 else Sex.FEMALE
            except ValidationError as exc:
                errors.append(violation("id_number", exc.code or "id_format", row=row))
    elif doc_type in _DOC_FORMATS:
        doc_zh, doc_en = _DOC_LABELS[doc_type]
        if id_number:
            errors.append(violation("id_number", "id_number_unexpected", row=row, doc=doc_zh, doc_en=doc_en))
        number = unicodedata.normalize("NFKC", text(data.get("doc_number"))).replace(" ", "").replace("-", "").upper()
        pattern, rule_zh, rule_en = _DOC_FORMATS[doc_type]
        if not number:
            errors.append(violation("doc_number", "required", row=row))
        elif not pattern.match(number):
            errors.append(violation("doc_number", "doc_format", row=row, doc=doc_zh, doc_en=doc_en, rule=rule_zh, rule_en=rule_en))
        out["doc_number"] = number

    nationality = text(data.get("nationality"))
    if doc_type == DocType.HK_MACAO and not nationality:
        nationality = "中国澳门" if out["doc_number"].startswith("M") else "中国香港"
    out["nationality"] = nationality or _DEFAULT_NATIONALITY.get(doc_type, "")
    if doc_type == DocType.PASSPORT and out["nationality"] in ("", "中国"):
        errors.append(violation("nationality", "nationality_required", row=row))
    _max_len(out, errors, "nationality", 40, row)

    # For an ID card holder sex and birth date come from the number: missing ones are no extra fault.
    derivable = doc_type == DocType.RESIDENT_ID or doc_type not in DocType.values
    raw_sex = text(data.get("sex"))
    if not raw_sex and (id_sex or derivable):
        out["sex"] = id_sex
    elif not raw_sex:
        out["sex"] = ""
        errors.append(violation("sex", "required", row=row))
    else:
        _choice(out, errors, data, "sex", SEX_SPELLINGS, row)
        if id_sex and out["sex"] in Sex.values and out["sex"] != id_sex:
            errors.append(violation("sex", "id_sex_mismatch", row=row))

    if data.get("birth_date") not in (None, "") or (id_birth is None and not derivable):
        born = _date_field(out, errors, data, "birth_date", row, today, required=True)
        if born is not None and born < _EARLIEST:
            errors.append(violation("birth_date", "date_too_early", row=row))
        if born is not None and id_birth is not None and born != id_birth:
            errors.append(violation("birth_date", "id_birth_mismatch", row=row, value=born.isoformat(), expected=id_birth.isoformat()))
    else:
        out["birth_date"] = id_birth

    phone = normalise_phone(data.get("phone"))
    out["phone"] = phone
    if phone and not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        errors.append(violation("phone", "phone_format", row=row))

    ethnicity = text(data.get("ethnicity"))
    if ethnicity and ethnicity not in _ETHNICITY_SET and f"{ethnicity}族" in _ETHNICITY_SET:
        ethnicity = f"{ethnicity}族"
    out["ethnicity"] = ethnicity
    if ethnicity and ethnicity not in _ETHNICITY_SET:
        errors.append(violation("ethnicity", "choice", row=row, value=ethnicity))

    out["hukou_place"] = text(data.get("hukou_place"))
    _max_len(out, errors, "hukou_place", 120, row)
    for field, spellings in (("education", EDUCATION_SPELLINGS), ("employment_status", EMPLOYMENT_SPELLINGS)):
        if text(data.get(field)):
            _choice(out, errors, data, field, spellings, row)
        else:
            out[field] = ""
    return out, errors


def validate_person(data: Mapping[str, Any], *, row: int | None = None, today: date | None = None) -> list[Violation]:
    return clean_person(data, row=row, today=today)[1]


# --- residences, households, housing, tenancies, employment ---------------------------------------


def validate_residence(data: Mapping[str, Any], *, row: int | None = None, today: date | None = None) -> list[Violation]:
    """One residence record: unit, kind, an arrival date not in the future, a departure not before it."""
    return clean_residence(data, row=row, today=today)[1]


def clean_residence(data: Mapping[str, Any], *, row: int | None = None, today: date | None = None) -> tuple[dict[str, Any], list[Violation]]:
    """Cleaned residence fields (kind as a code, dates parsed) and the violations."""
    today = today or timezone.localdate()
    out: dict[str, Any] = {}
    errors: list[Violation] = []
    if not data.get("housing_unit"):
        errors.append(violation("housing_unit", "required", row=row))
    if not text(data.get("kind")):
        errors.append(violation("kind", "required", row=row))
    else:
        _choice(out, errors, data, "kind", RESIDENCE_KIND_SPELLINGS, row)
    start = _date_field(out, errors, data, "from_date", row, today, required=True)
    end = _date_field(out, errors, data, "to_date", row, today, required=False)
    if start and end and end < start:
        errors.append(violation("to_date", "dates_order", row=row, other="from_date"))
    return out, errors


@dataclass(frozen=True)
class ResidenceFacts:
    """What the cross-record residence rules need to know about one stay."""

    key: Any
    housing_unit_id: int
    is_primary: bool
    from_date: date | None
    to_date: date | None
    is_void: bool = False


def check_residences(stays: Iterable[ResidenceFacts], *, row: int | None = None) -> list[Violation]:
    """× One current primary residence; × no two stays at the same unit overlap (open ends run forever)."""
    live = [s for s in stays if not s.is_void]
    errors: list[Violation] = []
    if sum(1 for s in live if s.is_primary and s.to_date is None) > 1:
        errors.append(violation("is_primary", "primary_not_unique", row=row))
    by_unit: dict[int, list[ResidenceFacts]] = {}
    for s in live:
        by_unit.setdefault(s.housing_unit_id, []).append(s)
    for unit_stays in by_unit.values():
        ordered = sorted(unit_stays, key=lambda s: s.from_date or date.min)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            # An unknown arrival date cannot be placed in time: it is not counted as an overlap.
            if earlier.from_date is None or later.from_date is None:
                continue
            if earlier.to_date is None or earlier.to_date > later.from_date:
                errors.append(violation("from_date", "residence_overlap", row=row, other_value=earlier.from_date.isoformat()))
    return errors


def check_household(members: Iterable[tuple[Any, str]], *, row: int | None = None) -> list[Violation]:
    """× Exactly one head; nobody twice; relations from the list. ``members`` are (person key, relation)."""
    listed = list(members)
    errors: list[Violation] = []
    if not listed:
        return [violation("members", "required", row=row)]
    for _, relation in listed:
        if relation not in Relation.values:
            errors.append(violation("relation", "choice", row=row, value=relation))
    heads = sum(1 for _, relation in listed if relation == Relation.HEAD)
    if heads != 1:
        errors.append(violation("members", "head_count", row=row, count=heads))
    if len({key for key, _ in listed}) != len(listed):
        errors.append(violation("members", "member_twice", row=row))
    return errors


def validate_building(data: Mapping[str, Any], *, row: int | None = None) -> list[Violation]:
    """Door plate (road and number), address, and a point or a grid."""
    errors: list[Violation] = []
    plate = text(data.get("door_plate"))
    if not plate:
        errors.append(violation("door_plate", "required", row=row))
    elif not re.search(r"(路|街|巷|道|大道|村|组|寨|坝|弄|胡同).*\d+号", plate):
        errors.append(violation("door_plate", "door_plate_format", row=row))
    elif len(plate) > 120:
        errors.append(violation("door_plate", "too_long", row=row, max=120))
    if not text(data.get("address")):
        errors.append(violation("address", "required", row=row))
    lat, lon = data.get("lat"), data.get("lon")
    if (lat is None) != (lon is None):
        errors.append(violation("lat", "coordinates_pair", row=row))
    elif lat is not None and lon is not None:
        try:
            if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
                errors.append(violation("lat", "coordinates_range", row=row))
        except (TypeError, ValueError):
            errors.append(violation("lat", "coordinates_range", row=row))
    elif not data.get("grid"):
        errors.append(violation("grid", "location_required", row=row))
    return errors


def validate_housing_unit(data: Mapping[str, Any], *, row: int | None = None) -> list[Violation]:
    errors: list[Violation] = []
    if not data.get("building"):
        errors.append(violation("building", "required", row=row))
    number = text(data.get("number"))
    if not number:
        errors.append(violation("number", "required", row=row))
    elif len(number) > 40:
        errors.append(violation("number", "too_long", row=row, max=40))
    return errors


def validate_tenancy(data: Mapping[str, Any], *, row: int | None = None, today: date | None = None) -> list[Violation]:
    """Unit, landlord (person or organisation), at least one tenant, use, and × start before end."""
    today = today or timezone.localdate()
    out: dict[str, Any] = {}
    errors: list[Violation] = []
    if not data.get("housing_unit"):
        errors.append(violation("housing_unit", "required", row=row))
    if not data.get("landlord") and not text(data.get("landlord_name")):
        errors.append(violation("landlord", "landlord_required", row=row))
    if not data.get("tenants"):
        errors.append(violation("tenants", "required", row=row))
    if not text(data.get("use")):
        errors.append(violation("use", "required", row=row))
    else:
        _choice(out, errors, data, "use", TENANCY_USE_SPELLINGS, row)
    # The start may lie ahead (a contract signed today for next month); the end always lies after it.
    far_future = date(today.year + 50, 1, 1)
    start = _date_field(out, errors, data, "start_date", row, far_future, required=True)
    end = _date_field(out, errors, data, "end_date", row, far_future, required=True)
    if start and end and end <= start:
        errors.append(violation("end_date", "dates_order_strict", row=row, other="start_date"))
    return errors


def validate_employment(data: Mapping[str, Any], *, row: int | None = None, today: date | None = None) -> list[Violation]:
    today = today or timezone.localdate()
    out: dict[str, Any] = {}
    errors: list[Violation] = []
    for field, limit in (("employer", 200), ("occupation", 100)):
        out[field] = text(data.get(field))
        if not out[field]:
            errors.append(violation(field, "required", row=row))
        _max_len(out, errors, field, limit, row)
    start = _date_field(out, errors, data, "from_date", row, today, required=True)
    end = _date_field(out, errors, data, "to_date", row, today, required=False)
    if start and end and end < start:
        errors.append(violation("to_date", "dates_order", row=row, other="from_date"))
    return errors


def validate_points_facts(facts: Mapping[str, Any], *, row: int | None = None) -> list[Violation]:
    """Claimed facts of a points application: insurance years 0–60, lists of awards and deductions."""
    errors: list[Violation] = []
    years = facts.get("insurance_years", 0)
    if not isinstance(years, int | float) or isinstance(years, bool) or not 0 <= years <= 60:
        errors.append(violation("facts", "number_range", row=row, min=0, max=60))
    for key in ("awards", "deductions"):
        if not isinstance(facts.get(key, []), list):
            errors.append(violation("facts", "choice", row=row, value=key))
    return errors


from .standard_batch import IMPORT_COLUMNS, clean_import_batch, clean_import_row  # noqa: E402  (the vectorised twin)

__all__ = [
    "ETHNICITIES",
    "FIELD_LABELS",
    "IMPORT_COLUMNS",
    "MESSAGES",
    "REQUIRED_FIELDS",
    "ResidenceFacts",
    "Violation",
    "check_household",
    "check_residences",
    "clean_import_batch",
    "clean_import_row",
    "clean_person",
    "clean_residence",
    "error",
    "parse_date",
    "raise_for",
    "validate_building",
    "validate_employment",
    "validate_housing_unit",
    "validate_person",
    "validate_points_facts",
    "validate_residence",
    "validate_tenancy",
    "violation",
]
