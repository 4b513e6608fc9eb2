"""Feeds: crafted files are validated row by row against the collection standard; bad rows are
quarantined with row, field and reason (and an XLSX report); a file in the wrong encoding or
without the mapped columns is refused whole; rerunning a file creates nothing."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from zhucheng.exchange import feeds, services
from zhucheng.exchange.errors import ExchangeError
from zhucheng.exchange.models import BatchState, Encoding, FileFormat, ImportBatch, RecordState, RowIssue, SourceRecord
from zhucheng.registry.models import Person

from .conftest import bad_check, csv_bytes, jsonl_bytes, make_id, row, run, xlsx_bytes

pytestmark = pytest.mark.django_db

NEW_1 = make_id(date(1992, 4, 18), 41)
NEW_2 = make_id(date(1988, 12, 30), 52, male=False)


def test_good_and_bad_rows_are_sorted_with_row_field_and_reason(ex: Any, fake_linkage: Any) -> None:
    data = csv_bytes(
        [
            row("赵磊", NEW_1, phone="13800001111"),
            row("钱芳", bad_check(NEW_2)),  # wrong check digit
            row("孙1", make_id(date(1990, 1, 1), 61)),  # digits in a name
            row("周杰", NEW_2, sex="男"),  # sex differs from the ID number (female)
        ]
    )
    batch = run(ex.feed, data)
    assert batch.state == BatchState.DONE
    assert (batch.received, batch.rejected, batch.staged) == (4, 3, 1)
    issues = {(i.row, i.field, i.code) for i in RowIssue.objects.filter(batch=batch)}
    assert (2, "id_number", "id_checksum") in issues
    assert (3, "name", "name_format") in issues
    assert (4, "sex", "id_sex_mismatch") in issues
    checksum = RowIssue.objects.get(batch=batch, code="id_checksum")
    assert checksum.column == "身份证号码" and "校验位" in checksum.message
    assert checksum.raw and bad_check(NEW_2) in checksum.raw  # raw values kept (encrypted) for the report
    assert SourceRecord.objects.get(batch=batch).name == "赵磊"
    with batch.upload.open("rb") as fh:
        assert NEW_1.encode() not in fh.read()  # the stored file is encrypted


def test_wrong_encoding_refuses_the_file_naming_the_row(ex: Any, fake_linkage: Any) -> None:
    data = csv_bytes([row("赵磊", NEW_1), row("钱芳", NEW_2)], encoding="gb18030")
    batch = run(ex.feed, data)  # the feed says UTF-8
    assert batch.state == BatchState.FAILED
    issue = RowIssue.objects.get(batch=batch)
    assert issue.code == "encoding" and issue.row == 0 and "UTF-8" in issue.message
    assert not SourceRecord.objects.filter(batch=batch).exists()

    ex.feed.encoding = Encoding.GB18030
    ex.feed.save()
    utf8 = csv_bytes([row("赵磊", NEW_1)])
    refused = run(ex.feed, utf8, "utf8.csv")
    assert refused.state == BatchState.FAILED and "GB18030" in refused.failure


def test_gb18030_feed_reads_gb18030_file(ex: Any, fake_linkage: Any) -> None:
    ex.feed.encoding = Encoding.GB18030
    ex.feed.save()
    batch = run(ex.feed, csv_bytes([row("赵磊", NEW_1, address="贵阳市南明区中华南路8号")], encoding="gb18030"))
    assert batch.state == BatchState.DONE and batch.staged == 1
    assert SourceRecord.objects.get(batch=batch).cleaned["address"] == "贵阳市南明区中华南路8号"


def test_decode_names_the_bad_row() -> None:
    data = "姓名,身份证号码\n张三,1\n".encode() + "李四,2\n".encode("gb18030")
    with pytest.raises(ExchangeError) as exc:
        feeds.decode(data, Encoding.UTF8)
    assert exc.value.code == "encoding" and exc.value.row == 2


def test_missing_columns_refuse_the_file(ex: Any, fake_linkage: Any) -> None:
    header = ["姓名", "性别", "出生日期", "住址", "网格编码"]  # no 身份证号码, no 联系电话
    batch = run(ex.feed, csv_bytes([row("赵磊", NEW_1)], header=header))
    assert batch.state == BatchState.FAILED
    missing = {(i.field, i.column) for i in RowIssue.objects.filter(batch=batch, code="missing_column")}
    assert missing == {("id_number", "身份证号码"), ("phone", "联系电话")}


def test_duplicated_rows_are_quarantined_citing_the_first(ex: Any, fake_linkage: Any) -> None:
    data = csv_bytes([row("赵磊", NEW_1), row("钱芳", NEW_2), row("赵磊", NEW_1), row("赵磊", NEW_1, phone="13800002222")])
    batch = run(ex.feed, data)
    dups = list(RowIssue.objects.filter(batch=batch, code="duplicate_in_file").order_by("row"))
    assert [d.row for d in dups] == [3, 4]
    assert all("第 1 行" in d.message for d in dups)
    assert batch.staged == 2 and Person.objects.filter(name="赵磊").count() == 1


def test_same_file_twice_creates_nothing(ex: Any, fake_linkage: Any) -> None:
    data = csv_bytes([row("赵磊", NEW_1), row("钱芳", NEW_2), row("坏行", bad_check(NEW_1))])
    first = run(ex.feed, data)
    counts = (ImportBatch.objects.count(), SourceRecord.objects.count(), RowIssue.objects.count(), Person.objects.count())
    with pytest.raises(ExchangeError) as exc:
        services.batch_receive(actor=None, feed=ex.feed, file_name="again.csv", data=data)
    assert exc.value.code == "duplicate_file" and exc.value.extra == first
    assert (ImportBatch.objects.count(), SourceRecord.objects.count(), RowIssue.objects.count(), Person.objects.count()) == counts


def test_rows_already_received_in_another_file_are_skipped(ex: Any, fake_linkage: Any) -> None:
    run(ex.feed, csv_bytes([row("赵磊", NEW_1), row("钱芳", NEW_2)]))
    persons = Person.objects.count()
    second = run(ex.feed, csv_bytes([row("钱芳", NEW_2), row("赵磊", NEW_1)]), "reordered.csv")  # a different file, same rows
    assert (second.received, second.duplicates, second.staged, second.new) == (2, 2, 0, 0)
    assert Person.objects.count() == persons
    assert SourceRecord.objects.count() == 2


def test_reprocessing_a_batch_is_a_no_op(ex: Any, fake_linkage: Any) -> None:
    batch = run(ex.feed, csv_bytes([row("赵磊", NEW_1)]))
    before = (SourceRecord.objects.count(), Person.objects.count())
    services.batch_process(batch)
    services.batch_validate(batch)
    assert (SourceRecord.objects.count(), Person.objects.count()) == before


def test_xlsx_and_jsonl_feeds(ex: Any, fake_linkage: Any) -> None:
    ex.feed.file_format = FileFormat.XLSX
    ex.feed.save()
    batch = run(ex.feed, xlsx_bytes([row("赵磊", NEW_1), row("钱芳", bad_check(NEW_2))]), "a.xlsx")
    assert (batch.staged, batch.rejected) == (1, 1)
    ex.feed.file_format = FileFormat.JSONL
    ex.feed.save()
    data = jsonl_bytes([row("钱芳", NEW_2)]) + b"\n{not json\n"
    batch = run(ex.feed, data, "b.jsonl")
    assert batch.staged == 1
    assert RowIssue.objects.get(batch=batch).code == "format"


def test_missing_id_is_linked_on_the_rest_and_held_without_a_match(ex: Any, fake_linkage: Any) -> None:
    batch = run(ex.feed, csv_bytes([row("吴刚", "", sex="男", born="1970-02-03"), row("无生日", "")]))
    assert batch.staged == 1 and batch.rejected == 1
    assert RowIssue.objects.get(batch=batch).field == "birth_date"
    record = SourceRecord.objects.get(batch=batch)
    assert record.state == RecordState.HELD and record.person is None


def test_unknown_grid_code_is_refused_and_known_one_places_the_new_person(ex: Any, fake_linkage: Any) -> None:
    batch = run(ex.feed, csv_bytes([row("赵磊", NEW_1, grid=ex.city.grid_b.code), row("钱芳", NEW_2, grid="000")]))
    assert RowIssue.objects.get(batch=batch).code == "unknown_grid"
    assert Person.objects.get(name="赵磊").unit == ex.city.grid_b


def test_error_report_xlsx(ex: Any, fake_linkage: Any) -> None:
    batch = run(ex.feed, csv_bytes([row("赵磊", NEW_1), row("钱芳", bad_check(NEW_2))]))
    data = feeds.issues_xlsx(list(RowIssue.objects.filter(batch=batch)), title="t")
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(values) == 1
    assert values[0][0] == 2 and values[0][1] == "公民身份号码" and values[0][3] == "id_checksum" and "校验位" in values[0][4]


def test_mapping_check() -> None:
    assert feeds.check_mapping({"姓名": "name", "身份证号": "id_number"}) == []
    problems = feeds.check_mapping({"姓名": "nom", "x": "phone"})
    assert any("nom" in p for p in problems) and any("姓名" in p for p in problems)
    assert feeds.suggest_mapping(["姓名", "身份证号码", "手机号码", "住址"]) == {"姓名": "name", "身份证号码": "id_number", "手机号码": "phone", "住址": "address"}


def test_command_checks_without_commit_and_commits_once(ex: Any, fake_linkage: Any, tmp_path: Path) -> None:
    path = tmp_path / "gaj.csv"
    path.write_bytes(csv_bytes([row("赵磊", NEW_1), row("钱芳", bad_check(NEW_2))]))
    out = io.StringIO()
    call_command("exchange_run", "gaj-hj", str(path), "--no-progress", "--errors", str(tmp_path / "e.xlsx"), stdout=out)
    assert "合格 1 行" in out.getvalue() and "隔离 1 行" in out.getvalue()
    assert not ImportBatch.objects.exists() and (tmp_path / "e.xlsx").exists()
    out = io.StringIO()
    call_command("exchange_run", "gaj-hj", str(path), "--commit", stdout=out, stderr=io.StringIO())
    assert "新建 1" in out.getvalue()
    assert ImportBatch.objects.count() == 1 and Person.objects.filter(name="赵磊").exists()
    out = io.StringIO()
    call_command("exchange_run", "gaj-hj", str(path), "--commit", "--no-progress", stdout=out)
    assert "不再重复导入" in out.getvalue() and ImportBatch.objects.count() == 1


def test_vectorised_and_scalar_checks_agree(ex: Any) -> None:
    """Rows accepted on the registry's vectorised fast path get exactly what the scalar rule gives."""
    born = date(1979, 9, 9)
    rows = [
        row("赵磊", NEW_1, phone="13800001111", sex="男", born="1992-04-18"),
        row("钱芳", NEW_2, phone="138 0000 2222", sex="F"),  # spaced phone, code for sex
        row("阿依古丽·买买提", make_id(born, 81, male=False)),  # minority name with a middle dot
        row("孙倩", make_id(born, 84, male=False), born="1979/09/09"),
        row("周杰", make_id(born, 83), phone="0851-85551234", address="中华北路 8 号"),
    ]
    content = feeds.read_file(ex.feed, csv_bytes(rows))
    checked = feeds.validate(ex.feed, content)
    assert not checked.issues, checked.issues
    assert len(checked.good) == len(rows)
    by_target = {t: c for c, t in ex.feed.mapping.items()}
    for good in checked.good:
        mapped = {t: good.raw.get(c, "") for t, c in by_target.items()}
        scalar, errors = feeds.clean_row(mapped, row=good.row, today=date.today(), grids=set())
        assert errors == [] and scalar == good.cleaned
