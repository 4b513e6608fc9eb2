"""Synthetic registry and daily feed with known truth (for the benchmark and the tests).

``registry(n)`` draws persons the way the registry's generator does (Faker zh_CN surname
frequencies, valid GB 11643 ID numbers, Guiyang addresses), in households that share an address,
a surname and often a phone, with twins (same birth date and address, different ID and given
name). ``feed(registry, m)`` is a department's daily file: mostly existing persons re-typed with
realistic noise — homophone and near-homophone characters, traditional characters, a mistyped
character, day and month transposed, a mistyped digit, a missing or mistyped ID number, a new
phone, a moved or re-formatted address — plus new persons and the twins of registered persons
(who must not be linked). All numpy-vectorised; the keyed hashes are HMAC-BLAKE2b.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import zhconv

from zhucheng.registry import generate as gen

from . import chinese

KEY = b"zhucheng-linkage-bench"
DISTRICTS = {
    "520102": "南明区",
    "520103": "云岩区",
    "520111": "花溪区",
    "520112": "乌当区",
    "520113": "白云区",
    "520115": "观山湖区",
}


def keyed_hash(values: np.ndarray | list[str]) -> np.ndarray:
    """Keyed hash (BLAKE2b-128 with a key) of every non-empty value; empty stays None."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = hashlib.blake2b(v.encode(), key=KEY, digest_size=16).hexdigest() if v else None
    return out


@lru_cache(maxsize=1)
def _common_chars() -> tuple[str, ...]:
    """GB 2312 level-1 characters (the 3,755 commonest)."""
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return tuple(chars)


@lru_cache(maxsize=1)
def _sound_tables() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Homophones (same toneless pinyin) and near-homophones (same 模糊音 key, other pinyin)."""
    by_py: dict[str, list[str]] = {}
    by_fz: dict[str, list[str]] = {}
    for c in _common_chars():
        py = chinese.pinyin(c)
        by_py.setdefault(py, []).append(c)
        by_fz.setdefault(chinese.fuzzy_pinyin(py), []).append(c)
    homo = {c: tuple(x for x in group if x != c) for group in by_py.values() for c in group}
    near = {}
    for group in by_fz.values():
        for c in group:
            py = chinese.pinyin(c)
            near[c] = tuple(x for x in group if chinese.pinyin(x) != py)
    return homo, near


def _addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    codes = np.array(list(DISTRICTS))
    district = codes[rng.integers(0, len(codes), size=n)]
    streets = {c: np.array(gen.street_names(rng, c, 60)) for c in codes}
    street = np.empty(n, dtype=object)
    for c in codes:
        idx = np.flatnonzero(district == c)
        street[idx] = streets[c][rng.integers(0, 60, size=len(idx))]
    number = rng.integers(1, 400, size=n)
    building = rng.integers(1, 30, size=n)
    unit = rng.integers(1, 6, size=n)
    room = rng.integers(1, 33, size=n) * 100 + rng.integers(1, 5, size=n)
    dname = np.vectorize(DISTRICTS.get)(district)
    parts = [
        np.full(n, "贵州省贵阳市"),
        dname,
        street,
        number.astype(str),
        np.full(n, "号"),
        building.astype(str),
        np.full(n, "栋"),
        unit.astype(str),
        np.full(n, "单元"),
        room.astype(str),
    ]
    out = parts[0].astype(object)
    for p in parts[1:]:
        out = out + p.astype(object)
    return out.astype(str)


def _people(rng: np.random.Generator, n: int, today: str = "2026-11-01") -> pd.DataFrame:
    from datetime import date

    male = rng.random(n) < 0.51
    surname, given = gen.name_parts(rng, male)
    births = gen.birth_dates(date.fromisoformat(today), gen.ages(rng, n, migrant=False))
    regions = gen.sample_regions(rng, n, gen.GUIYANG_DISTRICTS)
    ids = gen.id_numbers(rng, regions, births, male)
    return pd.DataFrame(
        {
            "surname": surname.astype(object),
            "given": given.astype(object),
            "birth": pd.Series(births.astype("datetime64[D]").astype(str)),
            "sex": np.where(male, "M", "F"),
            "id_number": ids.astype(object),
            "phone": gen.phones(rng, n).astype(object),
            "region": regions,
        }
    )


def registry(n: int, *, seed: int = 7, twin_share: float = 0.01) -> pd.DataFrame:
    """``n`` registered persons (columns of the person profile + ``id_number``, ``phone``):
    households of 1–5 sharing address, surname and often the phone; ``twin_share`` of them twins."""
    rng = np.random.default_rng(seed)
    people = _people(rng, n)
    sizes = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.3, 0.3, 0.22, 0.13, 0.05])
    household = np.repeat(np.arange(n), sizes)[:n]
    addresses = _addresses(rng, int(household.max()) + 1)
    people["address"] = addresses[household]
    first = np.r_[True, household[1:] != household[:-1]]
    head = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    # Family members share the head's surname (mostly) and, for a third, the household phone.
    same_surname = (~first) & (rng.random(n) < 0.7)
    people.loc[same_surname, "surname"] = people["surname"].values[head[same_surname]]
    shared_phone = (~first) & (rng.random(n) < 0.3)
    people.loc[shared_phone, "phone"] = people["phone"].values[head[shared_phone]]
    # Twins: the next person becomes the twin of this one (same surname, birth date, address, sex
    # half the time, phone), with another given name and another ID number.
    twin = np.flatnonzero(rng.random(n - 1) < twin_share / 2)
    twin = twin[np.r_[True, np.diff(twin) > 1]] if len(twin) else twin
    nxt = twin + 1
    for col in ("surname", "birth", "address", "phone", "region"):
        people.loc[nxt, col] = people[col].values[twin]
    keep_sex = rng.random(len(twin)) < 0.5
    people.loc[nxt[keep_sex], "sex"] = people["sex"].values[twin[keep_sex]]
    births = people["birth"].values[nxt].astype("datetime64[D]")
    people.loc[nxt, "id_number"] = _other_ids(
        rng, people["region"].values[nxt], births, people["sex"].values[nxt] == "M", set(people["id_number"])
    )
    people["twin_of"] = -1
    people.loc[nxt, "twin_of"] = twin
    return _finish(people, np.arange(n))


def _other_ids(
    rng: np.random.Generator, regions: np.ndarray, births: np.ndarray, male: np.ndarray, taken: set[str]
) -> np.ndarray:
    out = gen.id_numbers(rng, regions.astype(str), births, male).astype(object)
    for i, v in enumerate(out):
        while v in taken:
            v = gen.id_numbers(rng, regions[i : i + 1].astype(str), births[i : i + 1], male[i : i + 1])[0]
        out[i] = v
        taken.add(v)
    return out


def _finish(people: pd.DataFrame, uid: np.ndarray) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "unique_id": uid,
            "id_number": people["id_number"].values,
            "id_hash": keyed_hash(people["id_number"].fillna("").tolist()),
            "full_name": (people["surname"] + people["given"]).values,
            "birth_date": people["birth"].values,
            "sex": people["sex"].values,
            "phone": people["phone"].values,
            "phone_hash": keyed_hash(people["phone"].fillna("").tolist()),
            "address": people["address"].values,
        }
    )
    if "twin_of" in people:
        out["twin_of"] = people["twin_of"].values
    return out


@dataclass
class Feed:
    rows: pd.DataFrame  # the feed, person-profile columns, unique_id offset past the registry
    truth: pd.DataFrame  # registry_id, feed_id of every true match


def _swap_char(rng: np.random.Generator, name: str, table: dict[str, tuple[str, ...]]) -> str:
    spots = [i for i in range(1, len(name)) if table.get(name[i])] or [i for i in range(len(name)) if table.get(name[i])]
    if not spots:
        return name
    i = spots[int(rng.integers(0, len(spots)))]
    options = table[name[i]]
    return name[:i] + options[int(rng.integers(0, len(options)))] + name[i + 1 :]


def feed(reg: pd.DataFrame, m: int, *, seed: int = 11, match_share: float = 0.7, twin_share: float = 0.01) -> Feed:
    """A daily feed of ``m`` rows against ``reg``: ``match_share`` existing persons with noise,
    ``twin_share`` unregistered twins of registered persons, the rest new persons."""
    rng = np.random.default_rng(seed)
    n_match = int(m * match_share)
    n_twin = int(m * twin_share)
    n_new = m - n_match - n_twin
    picked = rng.choice(len(reg), size=n_match, replace=False)
    existing = reg.iloc[picked].reset_index(drop=True)
    rows = existing[["id_number", "full_name", "birth_date", "sex", "phone", "address"]].copy()
    homo, near = _sound_tables()
    common = _common_chars()
    names = rows["full_name"].tolist()
    r = rng.random(n_match)
    for i in range(n_match):
        name = names[i]
        if r[i] < 0.08:
            names[i] = _swap_char(rng, name, homo)  # 同音字
        elif r[i] < 0.11:
            names[i] = _swap_char(rng, name, near)  # 近音字 (模糊音)
        elif r[i] < 0.13:
            names[i] = zhconv.convert(name, "zh-tw")  # 繁体
        elif r[i] < 0.15 and len(name) >= 2:
            j = int(rng.integers(1, len(name)))
            names[i] = name[:j] + common[int(rng.integers(0, len(common)))] + name[j + 1 :]  # 错字
    rows["full_name"] = names
    births = rows["birth_date"].to_numpy(dtype=object)
    r = rng.random(n_match)
    day = np.array([b[8:10] for b in births])
    month = np.array([b[5:7] for b in births])
    swap = (r < 0.04) & (day.astype(int) <= 12) & (day != month)
    births[swap] = [b[:5] + d + "-" + mo for b, d, mo in zip(births[swap], day[swap], month[swap], strict=True)]
    typo = (r >= 0.04) & (r < 0.06)
    births[typo] = [b[:9] + str((int(b[9]) + 1) % 10) if b[8:10] not in {"09", "19", "29"} else b for b in births[typo]]
    rows["birth_date"] = births
    r = rng.random(n_match)
    ids = rows["id_number"].to_numpy(dtype=object)
    ids[r < 0.15] = ""  # 缺证件号
    bad = (r >= 0.15) & (r < 0.17)
    ids[bad] = [v[:14] + str((int(v[14]) + 3) % 10) + v[15:] for v in ids[bad]]  # 证件号录错
    rows["id_number"] = ids
    r = rng.random(n_match)
    phones = rows["phone"].to_numpy(dtype=object)
    phones[r < 0.2] = gen.phones(rng, int((r < 0.2).sum())).astype(object)  # 换号
    phones[(r >= 0.2) & (r < 0.3)] = ""
    rows["phone"] = phones
    r = rng.random(n_match)
    addr = rows["address"].to_numpy(dtype=object)
    moved = r < 0.1
    addr[moved] = _addresses(rng, int(moved.sum())).astype(object)  # 搬家
    short = (r >= 0.1) & (r < 0.25)
    addr[short] = [a.replace("贵州省", "").replace("栋", "幢") for a in addr[short]]
    addr[(r >= 0.25) & (r < 0.3)] = ""
    rows["address"] = addr
    sexflip = rng.random(n_match) < 0.005
    rows.loc[sexflip, "sex"] = np.where(rows.loc[sexflip, "sex"] == "M", "F", "M")
    # Unregistered twins of registered persons.
    twins_of = reg.iloc[rng.choice(len(reg), size=n_twin, replace=False)].reset_index(drop=True)
    tw = _people(rng, n_twin)
    tw["surname"] = [n[:1] for n in twins_of["full_name"]]
    tw["birth"] = twins_of["birth_date"].values
    tw["address"] = twins_of["address"].values
    tw["id_number"] = _other_ids(
        rng, tw["region"].values, tw["birth"].values.astype("datetime64[D]"), tw["sex"].values == "M", set(reg["id_number"])
    )
    new = _people(rng, n_new)
    new["address"] = _addresses(rng, n_new)
    new["id_number"] = _other_ids(
        rng,
        new["region"].values,
        new["birth"].values.astype("datetime64[D]"),
        new["sex"].values == "M",
        set(reg["id_number"]) | set(tw["id_number"]),
    )
    fresh = pd.concat([tw, new], ignore_index=True)
    fresh_rows = pd.DataFrame(
        {
            "id_number": fresh["id_number"],
            "full_name": fresh["surname"] + fresh["given"],
            "birth_date": fresh["birth"],
            "sex": fresh["sex"],
            "phone": fresh["phone"],
            "address": fresh["address"],
        }
    )
    all_rows = pd.concat([rows, fresh_rows], ignore_index=True)
    order = rng.permutation(len(all_rows))
    all_rows = all_rows.iloc[order].reset_index(drop=True)
    start = int(reg["unique_id"].max()) + 1 if len(reg) else 0
    uid = np.arange(start, start + len(all_rows))
    out = pd.DataFrame(
        {
            "unique_id": uid,
            "id_hash": keyed_hash(all_rows["id_number"].fillna("").tolist()),
            "full_name": all_rows["full_name"].values,
            "birth_date": all_rows["birth_date"].values,
            "sex": all_rows["sex"].values,
            "phone_hash": keyed_hash(all_rows["phone"].fillna("").tolist()),
            "address": all_rows["address"].values,
        }
    )
    source = np.r_[reg["unique_id"].values[picked], np.full(len(fresh_rows), -1)][order]
    truth = pd.DataFrame({"registry_id": source, "feed_id": uid})
    return Feed(out, truth[truth["registry_id"] >= 0].reset_index(drop=True))
