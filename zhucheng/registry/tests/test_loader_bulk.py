"""The loader's fast machinery gives exactly what the slow one gives: batch tokens decrypt with
``core.crypto.decrypt`` and batch hashes equal ``core.crypto.keyed_hash``; the vectorised region
check is ``core.identifiers``' rule; worker processes, and the fallback when they cannot start,
load the same rows; the plan read back in blocks keeps every row in order."""

from __future__ import annotations

import base64
from concurrent.futures import Future
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from zhucheng.core import crypto
from zhucheng.core.identifiers import _region_info
from zhucheng.registry import bulk, loader, standard, standard_batch
from zhucheng.registry.models import Employment, Person, Residence

from . import factories as f
from .test_load import rows, write_csv  # noqa: F401 - the fixture is used by name

VALUES = [
    "",
    "110101199003070011",
    "52010219900307001x",
    " 5201-0219 9003070011 ",
    "13800138000",
    "x" * 15,
    "y" * 16,
    "z" * 31,
    "w" * 32,
    "中文名字" * 5,
    "ü" * 40,
    "a\u3000b",
    "E1234567",
]


def test_batch_tokens_decrypt_and_batch_hashes_equal_keyed_hash() -> None:
    tokens = bulk.encrypt_arrow(pa.array([*VALUES, None], pa.string())).to_pylist()
    hashes = bulk.hash_arrow(pa.array([*VALUES, None], pa.string())).to_pylist()
    for value, token, digest in zip([*VALUES, ""], tokens, hashes, strict=True):
        if not value:
            assert token == "" and digest == ""
            continue
        assert crypto.decrypt(token) == value
        assert base64.urlsafe_b64decode(token)[0] == 0x80 and "\n" not in token
        assert digest == crypto.keyed_hash(value)
    assert bulk.encrypt_many(["", "abc"])[0] == "" and crypto.decrypt(bulk.encrypt_many(["", "abc"])[1]) == "abc"
    assert bulk.hash_many(["", "abc"]) == ["", crypto.keyed_hash("abc")]


def test_batch_crypto_of_sliced_and_chunked_arrays() -> None:
    array = pa.array(VALUES * 3, pa.string()).slice(5, 20)
    chunked = pa.chunked_array([array.slice(0, 7), array.slice(7)])
    plain = array.to_pylist()
    for values in (array, chunked):
        assert [crypto.decrypt(t) if t else "" for t in bulk.encrypt_arrow(values).to_pylist()] == plain
        assert bulk.hash_arrow(values).to_pylist() == [crypto.keyed_hash(v) if v else "" for v in plain]


def test_batch_tokens_use_the_newest_key(settings) -> None:  # type: ignore[no-untyped-def]
    old = settings.ZHUCHENG_KEYS[0]
    new = base64.urlsafe_b64encode(bytes(range(32))).decode()
    settings.ZHUCHENG_KEYS = [new, old]
    crypto._multifernet.cache_clear()
    token = bulk.encrypt_arrow(pa.array(["110101199003070011"])).to_pylist()[0]
    assert crypto.decrypt(token) == "110101199003070011"
    settings.ZHUCHENG_KEYS = [new]
    crypto._multifernet.cache_clear()
    assert crypto.decrypt(token) == "110101199003070011"  # encrypted under the first key
    assert repr(bulk.Keys.from_settings()) == "Keys()"  # keys never reach a log through repr


def test_the_region_check_is_the_identifiers_rule() -> None:
    known = set(standard_batch._known_regions().to_pylist())
    for code in [*sorted(known)[:200], "520102", "110103", "999999", "000000", "520100", "520199"]:
        assert (code in known) == bool(_region_info(code)) == standard_batch._region_known(code), code
    ids = [f.id_number(date(1990, 3, 7)), f.id_number(date(1990, 3, 7), region="999999")]
    table = pa.table({"name": ["张三", "李四"], "id_number": ids, "grid_code": ["G1", "G1"]})
    result = standard.clean_import_batch(table, first_row=2, today=date(2026, 1, 1))
    assert result.fast_rows == 1 and [(v.row, v.code) for v in result.rejects] == [(3, "id_region")]


def test_the_worker_path_and_its_fallback_give_the_same_result() -> None:
    keys = bulk.Keys.from_settings()
    values = pa.array(VALUES, pa.string())
    here = bulk.crypto_columns(keys, {"phone": values}, {"phone": values})
    with bulk.crypto_pool(bulk.PARALLEL_MIN_ROWS) as pool:
        assert pool is not None
        there = pool.submit(keys, {"phone": values}, {"phone": values}).result()
    assert there["phone_hash"] == here["phone_hash"]
    assert [crypto.decrypt(t) if t else "" for t in there["phone"].to_pylist()] == VALUES
    broken = bulk.CryptoPool(1)
    failed: Future[int] = Future()
    failed.set_exception(RuntimeError("no worker"))
    broken._started.cancel()  # type: ignore[union-attr]
    broken._started = failed
    fallback = broken.submit(keys, {}, {"phone": values}).result()
    assert broken.executor is None and fallback["phone_hash"] == here["phone_hash"]


@pytest.mark.django_db
@pytest.mark.parametrize("workers", [False, True], ids=["in-process", "workers"])
def test_loading_with_workers_and_small_chunks(city, rows, tmp_path: Path, monkeypatch, workers: bool) -> None:  # noqa: F811
    if workers:
        monkeypatch.setattr(bulk, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(loader, "_PLAN_GROUP", 2)  # the plan comes back in several blocks
    source = write_csv(tmp_path / "people.csv", rows)
    report = loader.load_file(source, commit=True, chunk_rows=3)
    assert (report.rows, report.inserted, report.existing, report.rejected_rows) == (10, 3, 0, 7)
    assert sorted(v.row or 0 for v in report.rejects) == [4, 5, 6, 7, 8, 10, 10, 11]
    assert Residence.objects.count() == 1 and Employment.objects.count() == 1
    for person in Person.objects.all():
        assert person.id_number_hash == (crypto.keyed_hash(person.id_number) if person.id_number else "")
        assert person.phone_hash == (crypto.keyed_hash(person.phone) if person.phone else "")
    wang = Person.objects.get(name="王小明")
    assert (wang.id_number, wang.phone) == (rows[0][1], "13800138000")
    assert loader.load_file(source, commit=True, chunk_rows=3).existing == 3
