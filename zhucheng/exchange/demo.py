"""Demo seeder for the exchange (日交换): five department feeds and their batches this month, run
through the real pipeline (validation, quarantine, splink linkage, review, merges).

* 公安 户籍人口 (CSV, UTF-8): a batch from days ago, linked and done; today's batch with possible
  matches waiting in the review queue of 新华社区 (the ``community`` login), some already decided
  (accepted and rejected), automatic merges, and one merge undone (撤销合并).
* 住建 租赁人员 (XLSX): linked, with rejects (bad check digits, impossible dates, duplicated rows).
* 人社 就业登记 (JSON lines): validated with rejects, not yet linked (比对前).
* 卫健 健康档案 (CSV, GB18030): one file refused whole (sent in UTF-8), then the right one.
* 民政 救助对象 (CSV, GB18030): received, waiting to be processed.

Rows are drawn from the demo registry with realistic noise: homophone given names, day/month
transposed, missing or mistyped ID numbers, changed phones, new people. Idempotent: when the feed
``gaj-hjrk`` exists the seeder does nothing.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from zhucheng.core.audit import audit_record
from zhucheng.core.demo import DemoContext
from zhucheng.places.models import Department, OrgUnit
from zhucheng.registry import services as registry_services
from zhucheng.registry.models import Person

from . import merge, services
from .models import BatchState, Encoding, Feed, FileFormat, ImportBatch, MergeEvent, ReviewItem, ReviewState

ORDER = 90

DEMO_COMMUNITY_CODE = "520102001"  # 新华社区 (places.demo)
DEMO_GRID_CODE = "520102001001001"
_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
# Common given-name characters and a homophone or near-homophone written differently.
HOMOPHONES = {
    "伟": "玮", "芳": "方", "丽": "莉", "静": "婧", "军": "君", "敏": "民", "华": "桦", "明": "铭", "红": "宏", "杰": "洁",
    "涛": "滔", "勇": "永", "磊": "垒", "洋": "阳", "艳": "燕", "娟": "鹃", "霞": "侠", "平": "萍", "刚": "钢", "建": "健",
    "秀": "绣", "英": "瑛", "兰": "岚", "玲": "翎", "云": "芸", "斌": "彬", "飞": "菲", "鹏": "朋", "辉": "晖", "波": "博",
    "宁": "凝", "海": "海", "峰": "锋", "林": "琳", "文": "雯", "志": "智", "俊": "骏", "婷": "亭", "欣": "昕", "颖": "莹",
    "雪": "雪", "梅": "玫", "琴": "勤", "倩": "茜", "佳": "嘉", "浩": "皓", "宇": "语", "轩": "萱", "晨": "辰", "凯": "恺",
}  # fmt: skip
NEW_NAMES = ("龙泽宇", "罗婉清", "韦春燕", "蒙秀兰", "石光荣", "潘海涛", "田雨桐", "吴晓东", "杨思远", "黄丽萍", "雷振华", "班玉芬")

FEEDS: tuple[dict[str, Any], ...] = (
    {"code": "gaj-hjrk", "name": "户籍人口信息", "dept": "D02", "format": FileFormat.CSV, "encoding": Encoding.UTF8, "schedule": "每日 02:00",
     "mapping": {"姓名": "name", "公民身份号码": "id_number", "性别": "sex", "出生日期": "birth_date", "联系电话": "phone", "民族": "ethnicity", "户籍地址": "hukou_place"}},
    {"code": "zjj-zlry", "name": "租赁备案承租人", "dept": "D03", "format": FileFormat.XLSX, "encoding": Encoding.UTF8, "schedule": "每日 03:00",
     "mapping": {"承租人姓名": "name", "证件号码": "id_number", "手机号码": "phone", "出租房屋地址": "address"}},
    {"code": "rsj-jydj", "name": "就业登记", "dept": "D04", "format": FileFormat.JSONL, "encoding": Encoding.UTF8, "schedule": "每周一 04:00",
     "mapping": {"xm": "name", "sfzh": "id_number", "xb": "sex", "lxdh": "phone", "jyzt": "employment_status", "whcd": "education"}},
    {"code": "wjw-jkda", "name": "居民健康档案", "dept": "D05", "format": FileFormat.CSV, "encoding": Encoding.GB18030, "schedule": "每日 01:30",
     "mapping": {"姓名": "name", "身份证号": "id_number", "性别": "sex", "出生日期": "birth_date", "联系电话": "phone", "现住址": "address"}},
    {"code": "mzj-jzdx", "name": "社会救助对象", "dept": "D06", "format": FileFormat.CSV, "encoding": Encoding.GB18030, "schedule": "每月 1 日",
     "mapping": {"姓名": "name", "身份证号码": "id_number", "联系电话": "phone", "家庭住址": "address"}},
)  # fmt: skip


def make_id(born: date, seq: int, *, region: str = "520102", male: bool = True) -> str:
    seq3 = seq % 1000
    if (seq3 % 2 == 1) != male:
        seq3 = (seq3 + 1) % 1000
    body = f"{region}{born:%Y%m%d}{seq3:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


def _homophone(name: str) -> str | None:
    for i in range(len(name) - 1, 0, -1):
        alt = HOMOPHONES.get(name[i])
        if alt and alt != name[i]:
            return name[:i] + alt + name[i + 1 :]
    return None


def _transposed(d: date) -> date | None:
    if d.day > 12 or d.day == d.month:
        return None
    return d.replace(month=d.day, day=d.month)


def _csv(header: list[str], rows: list[dict[str, str]], encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    return buf.getvalue().encode(encoding)


def _xlsx(header: list[str], rows: list[dict[str, str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append([r.get(h, "") for h in header])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _file(feed: Feed, rows: list[dict[str, str]], encoding: str | None = None) -> bytes:
    header = list(feed.mapping)
    if feed.file_format == FileFormat.XLSX:
        return _xlsx(header, rows)
    if feed.file_format == FileFormat.JSONL:
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode("utf-8")
    return _csv(header, rows, encoding or feed.encoding)


class Rows:
    """Rows of a feed from registry persons, in the feed's own column names."""

    def __init__(self, ctx: DemoContext, feed: Feed) -> None:
        self.rng = ctx.rng
        self.by_target = {target: column for column, target in feed.mapping.items()}

    def _row(self, values: dict[str, str]) -> dict[str, str]:
        return {column: values.get(target, "") for target, column in self.by_target.items()}

    def of(self, p: Person, **change: str) -> dict[str, str]:
        values = {
            "name": p.name,
            "id_number": p.id_number,
            "sex": "男" if p.sex == "M" else "女",
            "birth_date": p.birth_date.isoformat() if p.birth_date else "",
            "phone": p.phone,
            "ethnicity": p.ethnicity,
            "hukou_place": p.hukou_place,
            "employment_status": p.get_employment_status_display() if p.employment_status else "",
            "education": p.get_education_display() if p.education else "",
            "address": "",
        }
        values.update(change)
        return self._row(values)

    def new_person(self, i: int) -> dict[str, str]:
        born = date(1960 + self.rng.randrange(45), 1 + self.rng.randrange(12), 1 + self.rng.randrange(28))
        male = self.rng.random() < 0.5
        return self._row(
            {
                "name": NEW_NAMES[i % len(NEW_NAMES)],
                "id_number": make_id(born, 500 + i * 7 + self.rng.randrange(5), male=male),
                "sex": "男" if male else "女",
                "birth_date": born.isoformat(),
                "phone": f"139{self.rng.randrange(10**8):08d}",
                "address": "南明区新华路" + str(10 + i) + "号",
            }
        )

    def bad_check_digit(self, p: Person) -> dict[str, str]:
        number = p.id_number
        return self.of(p, id_number=number[:-1] + ("0" if number[-1] != "0" else "1"))

    def bad_date(self, p: Person) -> dict[str, str]:
        return self.of(p, birth_date=f"{p.birth_date:%Y}-02-30" if p.birth_date else "2001-02-30")


def _feeds(ctx: DemoContext) -> dict[str, Feed]:
    departments = {d.code: d for d in Department.objects.filter(code__in=[f["dept"] for f in FEEDS])}
    unit = OrgUnit.objects.filter(code=DEMO_GRID_CODE).first() or OrgUnit.objects.filter(kind="grid").order_by("path").first()
    out = {}
    for spec in FEEDS:
        dept = departments.get(spec["dept"])
        if dept is None or unit is None:
            continue
        out[spec["code"]], _created = Feed.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "department": dept,
                "file_format": spec["format"],
                "encoding": spec["encoding"],
                "mapping": spec["mapping"],
                "schedule": spec["schedule"],
                "unit": unit,
            },
        )
    return out


def _sample(ctx: DemoContext, n: int) -> list[Person]:
    """Registry persons of 新华社区 with an ID number (where the ``community`` login reviews)."""
    ids = list(
        Person.objects.filter(unit__path__startswith=_community_path(), id_number_hash__gt="", died_on__isnull=True, birth_date__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:3000]
    )
    picked = ctx.rng.sample(ids, min(n, len(ids)))
    by_pk = Person.objects.in_bulk(picked)
    return [by_pk[pk] for pk in picked]


def _community_path() -> str:
    unit = OrgUnit.objects.filter(code=DEMO_COMMUNITY_CODE).first()
    return unit.path if unit else ""


_SNAPSHOT: dict[str, Any] = {}


def _run(feed: Feed, name: str, data: bytes, days_ago: int, *, process: bool = True, link: bool = True) -> ImportBatch:
    batch = services.batch_receive(actor=None, feed=feed, file_name=name, data=data)
    if process:
        batch = services.batch_validate(batch)
        if link and batch.state == BatchState.VALIDATED:
            # One registry snapshot for the demo's batches (persons they register are not in it).
            batch = services.batch_link(batch, registry=_SNAPSHOT["registry"])
    when = timezone.now() - timedelta(days=days_ago, hours=1)
    ImportBatch.objects.filter(pk=batch.pk).update(received_at=when)
    batch.refresh_from_db()
    return batch


def seed(ctx: DemoContext) -> None:
    if Feed.objects.filter(code=FEEDS[0]["code"]).exists():
        ctx.log("数据交换已存在,跳过")
        return
    feeds = _feeds(ctx)
    if len(feeds) < len(FEEDS):
        ctx.log("找不到部门或网格,跳过数据交换")
        return
    people = _sample(ctx, 60)
    if len(people) < 40:
        ctx.log("人口数据不足,跳过数据交换")
        return
    _SNAPSHOT["registry"] = services.registry_snapshot()
    today = timezone.localdate()
    days = max(1, min(5, today.day - 1))  # earlier batches stay within this month when possible
    taken = iter(people)

    # 公安, days ago: exact records (some with a changed phone), new people, a few rejects.
    gaj = feeds["gaj-hjrk"]
    r = Rows(ctx, gaj)
    rows = [r.of(next(taken)) for _ in range(8)]
    rows += [r.of(next(taken), phone=f"137{ctx.rng.randrange(10**8):08d}") for _ in range(3)]
    rows += [r.new_person(i) for i in range(4)]
    rows += [r.bad_check_digit(next(taken)), r.of(next(taken), name="张3")]
    earlier = _run(gaj, f"户籍人口_{today - timedelta(days=days):%Y%m%d}.csv", _file(gaj, rows), days)

    # 公安, today: homophones without an ID, transposed birth dates, a duplicate row → review queue.
    rows = []
    for i in range(8):
        p = next(taken)
        alt = _homophone(p.name) or p.name
        rows.append(r.of(p, name=alt, id_number="", phone=p.phone if i < 2 else ""))
    for _ in range(3):
        p = next(taken)
        born = p.birth_date or date(1980, 1, 1)
        rows.append(r.of(p, id_number="", birth_date=(_transposed(born) or born).isoformat()))
    p = next(taken)
    rows += [r.of(p), r.of(p)]  # duplicated row
    rows += [r.new_person(10)]
    today_batch = _run(gaj, f"户籍人口_{today:%Y%m%d}.csv", _file(gaj, rows), 0)

    # 住建 (XLSX): linked, with rejects.
    zjj = feeds["zjj-zlry"]
    rz = Rows(ctx, zjj)
    rows = [rz.of(next(taken), address=f"南明区新华路{ctx.rng.randrange(1, 200)}号") for _ in range(5)]
    rows += [rz.bad_check_digit(next(taken)), rz.new_person(5)]
    rows += [rows[0]]
    zjj_batch = _run(zjj, f"租赁备案_{today - timedelta(days=1):%Y%m%d}.xlsx", _file(zjj, rows), 1)

    # 人社 (JSON lines): validated with rejects, not linked yet.
    rsj = feeds["rsj-jydj"]
    rr = Rows(ctx, rsj)
    rows = [rr.of(next(taken)) for _ in range(4)] + [rr.bad_check_digit(next(taken)), rr.of(next(taken), name="")]
    rsj_batch = _run(rsj, f"就业登记_{today:%Y%m%d}.jsonl", _file(rsj, rows), 0, link=False)

    # 卫健 (GB18030): a UTF-8 file refused whole, then the right one.
    wjw = feeds["wjw-jkda"]
    rw = Rows(ctx, wjw)
    rows = [rw.of(next(taken)) for _ in range(3)] + [rw.bad_date(next(taken))]
    wrong = _run(wjw, f"健康档案_{today:%Y%m%d}_utf8.csv", _file(wjw, rows, encoding="utf-8"), 0)
    right = _run(wjw, f"健康档案_{today:%Y%m%d}.csv", _file(wjw, rows), 0, link=False)

    # 民政: received, not processed yet.
    mzj = feeds["mzj-jzdx"]
    rm = Rows(ctx, mzj)
    received = _run(mzj, f"救助对象_{today:%Y%m}.csv", _file(mzj, [rm.of(next(taken, people[0])) for _ in range(3)]), 0, process=False)

    # Reviews decided by the community staff (accept the first, reject one), one merge undone.
    reviewer = _reviewer()
    pending = list(ReviewItem.objects.filter(state=ReviewState.PENDING, record__isnull=False).order_by("-match_probability", "pk"))
    decided = 0
    for item, accept in zip(pending[:2], (True, False), strict=False):
        services.review_decide(actor=reviewer, item=item, accept=accept, note="核对户籍信息" if accept else "出生日期与家庭成员不符")
        decided += 1
    auto = MergeEvent.objects.filter(via="auto", undone_at__isnull=True, record__batch=earlier).order_by("pk").first()
    if auto is not None:
        merge.unmerge(actor=reviewer, event=auto, reason="部门核实:号码录入错误,实为另一人")
    _twice_registered(reviewer, people[0].unit)
    summary = {
        "batches": ImportBatch.objects.count(),
        "pending": ReviewItem.objects.filter(state=ReviewState.PENDING).count(),
        "merges": MergeEvent.objects.filter(undone_at__isnull=True).count(),
    }
    audit_record(
        actor=None,
        act="exchange.seed",
        changed_fields=["batches"],
        reason=f"demo exchange: feeds={len(feeds)} " + " ".join(f"{k}={v}" for k, v in summary.items()),
    )
    states = {b.file_name: b.get_state_display() for b in (earlier, today_batch, zjj_batch, rsj_batch, wrong, right, received)}
    ctx.shared["exchange.feeds"] = feeds
    ctx.log(
        f"交换接口 {len(feeds)} 个,批次 {summary['batches']} 个({'、'.join(sorted(set(states.values())))}),"
        f"待人工复核 {summary['pending']} 条,已复核 {decided} 条,有效合并 {summary['merges']} 次"
    )


def _twice_registered(reviewer: Any, home: Any) -> None:
    """人员合并: a foreign resident registered twice, before and after a new passport, merged by the
    community staff; the old record leaves the registry's lists and its page points to the new one."""
    base = {"name": "JOHNSON EMILY", "doc_type": "passport", "nationality": "英国", "sex": "F", "birth_date": "1991-04-18"}
    old = registry_services.person_register(
        actor=None, data={**base, "doc_number": "533281947", "phone": "13985012345"}, unit=home, reason="出租屋登记(旧护照)"
    )
    new = registry_services.person_register(
        actor=None, data={**base, "doc_number": "125736904"}, unit=home, reason="就业登记(换发新护照)"
    )
    merge.person_merge(actor=reviewer, survivor=new, absorbed=old, reason="换发护照后重复登记,核实为同一人")


def _reviewer() -> Any:
    from zhucheng.accounts.models import User

    return User.objects.filter(username="community").first()


def report(ctx: DemoContext) -> None:
    by_state = {s.label: ImportBatch.objects.filter(state=s.value).count() for s in BatchState}
    ctx.stdout.write("数据交换批次:" + ",".join(f"{k} {v}" for k, v in by_state.items() if v))
    ctx.stdout.write(f"待人工复核 {ReviewItem.objects.filter(state=ReviewState.PENDING).count()} 条")
