"""Bulk import of historical appeals: every row checked, errors by row and column, dry run by default, rerun-safe."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from zhucheng.appeals import importer, services
from zhucheng.appeals.errors import AppealError
from zhucheng.appeals.importer import import_file
from zhucheng.appeals.models import Appeal, AppealKind, Channel, Feedback, Outcome, Petitioner, Reply, Satisfaction, Status
from zhucheng.core.models import AuditEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
GOOD_ID = "520102199003071236"

HEADER = [
    "来源编号", "类型", "渠道", "标题", "内容", "分类编码", "紧急程度", "地址", "纬度", "经度", "区划编码",
    "诉求人", "电话", "身份证号", "提交时间", "承办部门编码", "处理结果", "答复内容", "答复时间", "办结时间", "满意度",
]  # fmt: skip


def row(**kw: str) -> list[str]:
    values = dict.fromkeys(HEADER, "")
    values.update(kw)
    return [values[h] for h in HEADER]


# Row numbers as the spreadsheet shows them: the header is row 1.
ROWS = [
    row(  # 2: a closed historical case with its reply and rating
        来源编号="H-001", 渠道="热线电话", 标题="路灯不亮", 内容="中华路12号门口路灯坏了一个月。", 分类编码="CG01",
        纬度="26.2", 经度="106.1", 诉求人="张三", 电话="139 1234 5678", 身份证号=GOOD_ID, 提交时间="2025-03-01 09:30",
        承办部门编码="T01", 处理结果="支持", 答复内容="已更换灯具。", 答复时间="2025/3/5 10:00", 办结时间="2025年3月6日", 满意度="满意",
    ),
    row(  # 3: a letter placed by its unit code, still open
        来源编号="L-002", 渠道="来信", 内容="反映小区物业服务差，收费不透明。", 区划编码="990101002001", 提交时间="2025-04-02",
    ),
    row(  # 4: four problems at once, all reported
        来源编号="H-003", 渠道="热线电话", 分类编码="ZZ99", 纬度="26.2", 经度="106.1", 电话="12345", 提交时间="2025-02-30",
    ),
    row(来源编号="H-004", 内容="路面塌陷", 纬度="30.5", 经度="120.1", 提交时间="2025-03-01"),  # 5: outside the city
    row(来源编号="H-005", 内容="路面塌陷", 区划编码="000000", 提交时间="2025-03-01"),  # 6: unknown unit, no point
    row(来源编号="H-006", 内容="噪音", 纬度="26.2", 经度="106.1", 身份证号="520102199003071231", 提交时间="2025-03-01"),  # 7
    row(  # 8: unknown department, unknown outcome, reply before submission
        来源编号="H-007", 内容="噪音", 纬度="26.2", 经度="106.1", 提交时间="2025-03-01", 承办部门编码="X99", 处理结果="同意",
        答复内容="已处理", 答复时间="2025-02-01",
    ),
]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig", header: list[str] = HEADER) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "history.csv", ROWS)


def errors_by_row(report: importer.ImportReport) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for e in report.errors:
        out.setdefault(e.row, set()).add(e.column)
    return out


def test_dry_run_lists_every_error_by_row_and_column_and_writes_nothing(city: Any, sample: Path) -> None:
    audit_before = AuditEvent.objects.count()
    report = import_file(sample, actor=None, commit=False)

    assert report.total == 7 and report.ready == 2 and report.imported == 0
    assert errors_by_row(report) == {
        4: {"内容", "分类编码", "电话", "提交时间"},
        5: {"纬度"},
        6: {"区划编码"},
        7: {"身份证号"},
        8: {"承办部门编码", "处理结果", "答复时间"},
    }
    reasons = {(e.row, e.column): e.reason for e in report.errors}
    assert "ZZ99" in reasons[(4, "分类编码")]
    assert "不在本市" in reasons[(5, "纬度")]
    assert "校验位" in reasons[(7, "身份证号")]
    assert all(e.source_ref for e in report.errors)
    assert Appeal.objects.count() == 0 and AuditEvent.objects.count() == audit_before


def test_commit_imports_good_rows_with_their_history_and_skips_bad_ones(city: Any, sample: Path) -> None:
    report = import_file(sample, actor=None, commit=True)

    assert report.imported == 2 and report.failed_rows == 5
    assert Appeal.objects.count() == 2
    closed = Appeal.objects.get(source_ref="H-001")
    assert closed.channel == Channel.HOTLINE and closed.kind == AppealKind.APPEAL
    assert closed.category is not None and closed.category.code == "CG01"
    assert closed.grid == city.grid_a
    assert closed.submitted_at == datetime(2025, 3, 1, 9, 30, tzinfo=SHANGHAI)
    assert closed.status == Status.CLOSED and closed.department == city.department
    assert closed.closed_at == datetime(2025, 3, 6, tzinfo=SHANGHAI)
    reply = Reply.objects.get(appeal=closed)
    assert reply.outcome == Outcome.SUPPORT and reply.text == "已更换灯具。"
    assert Feedback.objects.get(appeal=closed).department_rating == Satisfaction.SATISFIED
    person = Petitioner.objects.get(appeal=closed)
    assert person.name == "张三" and person.phone == "13912345678" and person.id_number == GOOD_ID

    letter = Appeal.objects.get(source_ref="L-002")
    assert letter.channel == Channel.LETTER and letter.kind == AppealKind.PETITION  # letters are petitions
    assert letter.unit == city.committee_b and letter.status == Status.SUBMITTED
    assert letter.title == "反映小区物业服务差，收费不透明"[:30]  # no title: the opening words stand in


def test_rerun_imports_nothing_new(city: Any, sample: Path) -> None:
    import_file(sample, actor=None, commit=True)
    again = import_file(sample, actor=None, commit=True)
    assert again.imported == 0 and again.skipped_existing == 2
    assert sorted(ref for _row, ref in again.skipped_rows) == ["H-001", "L-002"]
    assert Appeal.objects.count() == 2


def test_same_reference_twice_in_one_file(city: Any, tmp_path: Path) -> None:
    rows = [ROWS[1], ROWS[1]]
    report = import_file(write_csv(tmp_path / "dup.csv", rows), actor=None, commit=True)
    assert report.imported == 1
    assert [(e.row, e.column) for e in report.errors] == [(3, "来源编号")] and "第 2 行" in report.errors[0].reason


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_encodings(city: Any, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / f"{encoding}.csv", ROWS[:2], encoding=encoding)
    report = import_file(path, actor=None, commit=False)
    assert report.errors == [] and report.ready == 2


def test_gb18030_file_is_imported_with_its_chinese_text(city: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", ROWS[1:2], encoding="gb18030")
    import_file(path, actor=None, commit=True)
    assert Appeal.objects.get(source_ref="L-002").description == "反映小区物业服务差，收费不透明。"


def test_xlsx_with_english_headers_and_typed_cells(city: Any, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["source_ref", "Channel", "Title", "Description", "Category", "Lat", "Lon", "Phone", "ID_Number", "Submitted_At", "Notes"])
    sheet.append([1001, "hotline", "路灯", "路灯坏了", "CG01", 26.2, 106.1, 13912345678, None, datetime(2025, 5, 1, 8, 0)])
    sheet.append([1002, "hotline", "路灯", "路灯坏了", "CG01", 26.2, 106.1, None, 5.20102199003071e17, datetime(2025, 5, 1, 8, 0)])
    path = tmp_path / "history.xlsx"
    workbook.save(path)

    report = import_file(path, actor=None, commit=True)
    assert report.ignored_columns == ["Notes"]
    assert report.imported == 1
    appeal = Appeal.objects.get(source_ref="1001")  # the number 1001.0 became the reference "1001"
    assert appeal.submitted_at == datetime(2025, 5, 1, 8, 0, tzinfo=SHANGHAI)
    assert Petitioner.objects.get(appeal=appeal).phone == "13912345678"
    (error,) = report.errors
    assert (error.row, error.column) == (3, "ID_Number") and "文本" in error.reason  # Excel ate the digits


def test_missing_required_columns_are_reported_once(city: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", [["路灯坏了"]], header=["内容"])
    report = import_file(path, actor=None, commit=True)
    assert {(e.row, e.column) for e in report.errors} == {(1, "来源编号"), (1, "提交时间"), (1, "纬度/经度")}
    assert report.imported == 0 and Appeal.objects.count() == 0


def test_swapped_coordinates_get_a_hint(city: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "swap.csv", [row(来源编号="S1", 内容="噪音", 纬度="106.1", 经度="26.2", 提交时间="2025-03-01")])
    (error,) = import_file(path, actor=None, commit=False).errors
    assert error.column == "纬度" and "填反" in error.reason


def test_a_row_refused_by_the_service_leaves_nothing_behind(city: Any, tmp_path: Path, monkeypatch: Any) -> None:
    def refuse(**kw: Any) -> Any:
        raise AppealError("答复时间早于提交时间。", code="invalid", field="replied_at")

    monkeypatch.setattr(services, "appeal_record_history", refuse)
    report = import_file(write_csv(tmp_path / "h.csv", ROWS[:1]), actor=None, commit=True)
    assert report.imported == 0
    assert [(e.row, e.column) for e in report.errors] == [(2, "答复时间")]
    assert not Appeal.objects.exists() and not Petitioner.objects.exists()  # the submit was rolled back too


def test_service_refusal_after_the_checks_is_reported_with_its_column(city: Any, tmp_path: Path) -> None:
    rows = [row(来源编号="X1", 标题="<script>alert(1)</script>", 内容="噪音", 纬度="26.2", 经度="106.1", 提交时间="2025-03-01")]
    report = import_file(write_csv(tmp_path / "x.csv", rows), actor=None, commit=True)
    assert [(e.row, e.column) for e in report.errors] == [(2, "标题")]
    assert not Appeal.objects.exists()


# --- the command ------------------------------------------------------------------------------


def test_command_dry_run_exits_non_zero_and_writes_the_error_report(city: Any, sample: Path, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    errors_out = tmp_path / "errors.csv"
    with pytest.raises(CommandError) as exc:
        call_command("import_appeals", str(sample), "--errors-out", str(errors_out), stdout=out, stderr=err)
    assert exc.value.returncode == 1
    assert "试运行" in out.getvalue() and "可导入 2 行" in out.getvalue()
    assert "第 5 行[纬度]" in err.getvalue()
    assert Appeal.objects.count() == 0
    lines = list(csv.reader(errors_out.read_text(encoding="utf-8-sig").splitlines()))
    assert lines[0] == ["行号", "来源编号", "列", "原因"]
    assert len(lines) == 1 + 10 and ["5", "H-004", "纬度"] in [line[:3] for line in lines]


def test_command_commit_and_rerun(city: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "good.csv", ROWS[:2])
    out = io.StringIO()
    call_command("import_appeals", str(path), "--commit", "--user", "worker_a", stdout=out)
    assert "导入 2 行" in out.getvalue() and Appeal.objects.count() == 2
    assert Appeal.objects.get(source_ref="L-002").submitted_by == city.worker_a
    out = io.StringIO()
    call_command("import_appeals", str(path), "--commit", stdout=out)
    assert "导入 0 行" in out.getvalue() and "已导入过" in out.getvalue()
    assert Appeal.objects.count() == 2


def test_command_xlsx_error_report(city: Any, sample: Path, tmp_path: Path) -> None:
    errors_out = tmp_path / "errors.xlsx"
    with pytest.raises(CommandError):
        call_command("import_appeals", str(sample), "--commit", "--errors-out", str(errors_out), stdout=io.StringIO(), stderr=io.StringIO())
    sheet = openpyxl.load_workbook(errors_out).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("行号", "来源编号", "列", "原因") and len(rows) == 1 + 10
    assert Appeal.objects.count() == 2
