"""The collection standard, rule by rule, and the bulk check agreeing with the row check."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pytest
from django.utils import translation

from zhucheng.registry import standard
from zhucheng.registry.generate import make_id_number
from zhucheng.registry.standard import ResidenceFacts as Stay

TODAY = date(2026, 6, 1)
ID_M = make_id_number("520102", date(1990, 3, 7), 123)  # odd sequence: a man
ID_F = make_id_number("520103", date(1985, 12, 31), 244)


def codes(violations: list[standard.Violation]) -> list[tuple[str, str]]:
    return [(v.field, v.code) for v in violations]


def person(**data: object) -> tuple[dict, list[tuple[str, str]]]:
    cleaned, errors = standard.clean_person({"name": "王小明", "id_number": ID_M, **data}, today=TODAY)
    return cleaned, codes(errors)


# --- persons ----------------------------------------------------------------------------------------


def test_a_plain_record_is_clean_and_sex_and_birth_come_from_the_id() -> None:
    cleaned, errors = person()
    assert errors == []
    assert (cleaned["sex"], cleaned["birth_date"], cleaned["doc_type"], cleaned["nationality"]) == ("M", date(1990, 3, 7), "resident_id", "中国")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": ""}, [("name", "required")]),
        ({"name": "王2明"}, [("name", "name_format")]),
        ({"name": "王" * 61}, [("name", "too_long")]),
        ({"id_number": ""}, [("id_number", "required")]),
        ({"id_number": "52010219900307123"}, [("id_number", "id_format")]),
        ({"id_number": ID_M[:-1] + ("0" if ID_M[-1] != "0" else "1")}, [("id_number", "id_checksum")]),
        ({"id_number": make_id_number("999999", date(1990, 3, 7), 1)}, [("id_number", "id_region")]),
        ({"sex": "女"}, [("sex", "id_sex_mismatch")]),
        ({"sex": "X"}, [("sex", "choice")]),
        ({"birth_date": "1990-03-08"}, [("birth_date", "id_birth_mismatch")]),
        ({"birth_date": "1990-02-30"}, [("birth_date", "date_format")]),
        ({"phone": "12345"}, [("phone", "phone_format")]),
        ({"ethnicity": "火星族"}, [("ethnicity", "choice")]),
        ({"education": "幼儿园"}, [("education", "choice")]),
        ({"employment_status": "躺平"}, [("employment_status", "choice")]),
        ({"doc_type": "驾驶证"}, [("doc_type", "choice")]),
        ({"hukou_place": "贵" * 121}, [("hukou_place", "too_long")]),
    ],
)
def test_each_person_rule(data: dict, expected: list[tuple[str, str]]) -> None:
    assert person(**data)[1] == expected


def test_an_impossible_birth_date_in_the_id() -> None:
    first17 = "52010219900230001"
    from zhucheng.registry.generate import check_digit

    assert person(id_number=first17 + check_digit(first17))[1] == [("id_number", "id_birth_date")]


def test_what_people_type_is_normalised() -> None:
    spaced = f"{ID_M[:6]} {ID_M[6:14]}-{ID_M[14:]}".lower()
    cleaned, errors = person(id_number=spaced, phone="+86 138-0013-8000", ethnicity="苗", education="大学本科", sex="男")
    assert errors == []
    assert (cleaned["id_number"], cleaned["phone"], cleaned["ethnicity"], cleaned["education"]) == (ID_M, "13800138000", "苗族", "bachelor")
    assert person(phone="0851-85551234")[0]["phone"] == "085185551234"
    assert person(name="阿卜杜拉•买买提")[0]["name"] == "阿卜杜拉·买买提"


def test_people_without_a_mainland_id() -> None:
    base = {"name": "JOHN SMITH", "id_number": "", "sex": "M", "birth_date": "1980-01-01"}
    assert codes(standard.validate_person({**base, "doc_type": "passport", "doc_number": "E1234567"}, today=TODAY)) == [
        ("nationality", "nationality_required")
    ]
    cleaned, errors = standard.clean_person({**base, "doc_type": "passport", "doc_number": "e 123-4567", "nationality": "英国"}, today=TODAY)
    assert errors == [] and cleaned["doc_number"] == "E1234567" and cleaned["id_number"] == ""
    assert codes(standard.validate_person({**base, "doc_type": "hk_macao", "doc_number": "X123"}, today=TODAY)) == [("doc_number", "doc_format")]
    cleaned, errors = standard.clean_person({**base, "name": "陈大文", "doc_type": "hk_macao", "doc_number": "M12345678"}, today=TODAY)
    assert errors == [] and cleaned["nationality"] == "中国澳门"
    assert codes(standard.validate_person({**base, "doc_type": "taiwan", "doc_number": "1234567"}, today=TODAY)) == [("doc_number", "doc_format")]
    assert codes(standard.validate_person({**base, "doc_type": "taiwan", "doc_number": "12345678", "id_number": ID_M}, today=TODAY)) == [
        ("id_number", "id_number_unexpected")
    ]
    assert codes(standard.validate_person({**base, "doc_type": "taiwan", "doc_number": "12345678", "birth_date": "2030-01-01"}, today=TODAY)) == [
        ("birth_date", "date_future")
    ]
    assert codes(standard.validate_person({**base, "doc_type": "taiwan", "doc_number": "12345678", "sex": ""}, today=TODAY)) == [("sex", "required")]


def test_violations_speak_both_languages() -> None:
    v = standard.validate_person({"name": "", "id_number": ID_M}, today=TODAY)[0]
    assert v.message_zh == "姓名为必填项。" and v.message_en == "The name is required."
    assert v.message == v.message_zh
    with translation.override("en"):
        assert v.message == v.message_en
    assert v.at_row(7).as_dict() == {"field": "name", "code": "required", "message_zh": v.message_zh, "message_en": v.message_en, "row": 7}


# --- residences, households, housing, rentals, employment ------------------------------------------


def test_residence_rules() -> None:
    ok = {"housing_unit": 1, "kind": "流动人口", "from_date": "2024-01-01"}
    cleaned, errors = standard.clean_residence(ok, today=TODAY)
    assert errors == [] and cleaned["kind"] == "migrant"
    assert codes(standard.validate_residence({**ok, "kind": ""}, today=TODAY)) == [("kind", "required")]
    assert codes(standard.validate_residence({**ok, "from_date": None}, today=TODAY)) == [("from_date", "required")]
    assert codes(standard.validate_residence({**ok, "to_date": "2023-12-31"}, today=TODAY)) == [("to_date", "dates_order")]
    assert codes(standard.validate_residence({**ok, "from_date": TODAY + timedelta(days=1)}, today=TODAY)) == [("from_date", "date_future")]


def test_one_current_primary_residence_and_no_overlap_at_a_unit() -> None:
    d = date
    assert standard.check_residences([Stay(1, 10, True, d(2020, 1, 1), d(2022, 1, 1)), Stay(2, 11, True, d(2022, 1, 1), None)]) == []
    assert codes(standard.check_residences([Stay(1, 10, True, d(2020, 1, 1), None), Stay(2, 11, True, d(2022, 1, 1), None)])) == [
        ("is_primary", "primary_not_unique")
    ]
    assert codes(standard.check_residences([Stay(1, 10, False, d(2020, 1, 1), d(2022, 6, 1)), Stay(2, 10, True, d(2022, 1, 1), None)])) == [
        ("from_date", "residence_overlap")
    ]
    # back to the same unit after leaving it, and a voided row, are fine
    assert standard.check_residences([Stay(1, 10, True, d(2020, 1, 1), d(2021, 1, 1)), Stay(2, 10, True, d(2021, 1, 1), None)]) == []
    assert standard.check_residences([Stay(1, 10, True, d(2020, 1, 1), None, True), Stay(2, 10, True, d(2021, 1, 1), None)]) == []


def test_household_has_exactly_one_head() -> None:
    assert standard.check_household([(1, "head"), (2, "spouse")]) == []
    assert codes(standard.check_household([(1, "spouse")])) == [("members", "head_count")]
    assert codes(standard.check_household([(1, "head"), (2, "head")])) == [("members", "head_count")]
    assert codes(standard.check_household([(1, "head"), (1, "child")])) == [("members", "member_twice")]
    assert codes(standard.check_household([(1, "head"), (2, "cousin")])) == [("relation", "choice")]
    assert codes(standard.check_household([])) == [("members", "required")]


def test_tenancy_dates_are_ordered_and_parties_given() -> None:
    ok = {"housing_unit": 1, "landlord": 2, "tenants": [3], "start_date": "2025-01-01", "end_date": "2026-01-01", "use": "居住"}
    assert standard.validate_tenancy(ok, today=TODAY) == []
    assert codes(standard.validate_tenancy({**ok, "end_date": "2025-01-01"}, today=TODAY)) == [("end_date", "dates_order_strict")]
    assert codes(standard.validate_tenancy({**ok, "landlord": None}, today=TODAY)) == [("landlord", "landlord_required")]
    assert standard.validate_tenancy({**ok, "landlord": None, "landlord_name": "某物业公司"}, today=TODAY) == []
    assert codes(standard.validate_tenancy({**ok, "tenants": [], "use": "开会"}, today=TODAY)) == [("tenants", "required"), ("use", "choice")]


def test_building_housing_unit_and_employment_rules() -> None:
    ok = {"door_plate": "新华路128号", "address": "南明区新华路128号", "lat": 26.57, "lon": 106.71}
    assert standard.validate_building(ok) == []
    assert codes(standard.validate_building({**ok, "door_plate": "新华小区"})) == [("door_plate", "door_plate_format")]
    assert codes(standard.validate_building({**ok, "lon": None})) == [("lat", "coordinates_pair")]
    assert codes(standard.validate_building({**ok, "lat": 126.0})) == [("lat", "coordinates_range")]
    assert codes(standard.validate_building({**ok, "lat": None, "lon": None})) == [("grid", "location_required")]
    assert codes(standard.validate_housing_unit({"building": 1, "number": ""})) == [("number", "required")]
    job = {"employer": "贵阳某公司", "occupation": "会计", "from_date": "2020-01-01"}
    assert standard.validate_employment(job, today=TODAY) == []
    assert codes(standard.validate_employment({**job, "to_date": "2019-01-01", "occupation": ""}, today=TODAY)) == [
        ("occupation", "required"),
        ("to_date", "dates_order"),
    ]


# --- the bulk check agrees with the row check ------------------------------------------------------

_CORPUS: list[dict[str, str]] = [
    {"name": "王小明", "id_number": ID_M, "phone": "13800138000", "grid_code": "G1"},
    {"name": "李芳", "id_number": ID_F, "sex": "女", "birth_date": "1985-12-31", "ethnicity": "苗族", "grid_code": "G1", "education": "大学本科"},
    {"name": "李芳", "id_number": ID_F, "sex": "F", "door_plate": "新华路1号", "unit_number": "101", "residence_kind": "流动人口", "from_date": "2024-02-01"},
    {"name": "张三", "id_number": ID_M, "employer": "某公司", "occupation": "会计", "employment_from": "2020-05-05", "grid_code": "G1"},
    {"name": "张三", "id_number": ID_M, "employer": "某公司", "grid_code": "G1"},
    {"name": "张三", "id_number": ID_M.lower(), "grid_code": "G1"},
    {"name": "张三3", "id_number": ID_M, "grid_code": "G1"},
    {"name": "张三", "id_number": ID_M, "sex": "女", "grid_code": "G1"},
    {"name": "张三", "id_number": ID_M, "birth_date": "1990/03/07", "grid_code": "G1"},
    {"name": "张三", "id_number": ID_M[:-1] + "0", "grid_code": "G1"},
    {"name": "张三", "id_number": ID_M},
    {"name": "张三", "id_number": ID_M, "door_plate": "新华路1号", "grid_code": ""},
    {"name": "张三", "id_number": ID_M, "door_plate": "新华路1号", "unit_number": "1", "residence_kind": "permanent", "from_date": "2030-01-01"},
    {"name": "张三", "id_number": ID_M, "door_plate": "新华路1号", "unit_number": "1", "residence_kind": "permanent", "from_date": "2023-02-29"},
    {"name": "张三", "id_number": ID_M, "phone": "0851-85551234", "grid_code": "G1"},
    {"name": "张三", "id_number": ID_M, "phone": "008612345678", "grid_code": "G1"},
    {"name": "张三", "id_number": ID_M, "phone": "085185551234", "grid_code": "G1", "employment_status": "在业"},
    {"name": "JOHN SMITH", "doc_type": "passport", "doc_number": "E1234567", "nationality": "英国", "sex": "M", "birth_date": "1980-01-01", "grid_code": "G1"},
    {"name": "", "id_number": "", "grid_code": ""},
    {"name": "王五", "id_number": ID_M, "hukou_place": "贵州省 贵阳市", "grid_code": "G1", "nationality": "中国"},
]


def test_bulk_check_gives_what_the_row_check_gives() -> None:
    columns = sorted({k for row in _CORPUS for k in row})
    table = pa.table({c: pa.array([row.get(c) for row in _CORPUS], type=pa.string()) for c in columns})
    result = standard.clean_import_batch(table, first_row=2, today=TODAY)
    good_by_row = {r["row"]: r for r in result.table.to_pylist()}
    rejects_by_row: dict[int, list[tuple[str, str]]] = {}
    for v in result.rejects:
        rejects_by_row.setdefault(v.row or 0, []).append((v.field, v.code))
    for i, raw in enumerate(_CORPUS):
        row = i + 2
        cleaned, errors = standard.clean_import_row(raw, row=row, today=TODAY)
        if errors:
            assert row not in good_by_row and rejects_by_row[row] == codes(errors), (row, raw)
        else:
            assert row not in rejects_by_row, (row, raw)
            assert good_by_row[row] == {k: cleaned[k] for k in good_by_row[row]}, (row, raw)
    assert result.fast_rows >= 5  # the canonical rows never reached the row check
    assert rejects_by_row[8] == [("name", "name_format")] and rejects_by_row[13][0] == ("unit_number", "required")
