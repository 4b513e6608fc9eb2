"""Chinese-aware name and address normalisation for record linkage (姓名比对).

Everything here runs in pandas before the records reach splink, so the comparisons themselves are
plain SQL on helper columns (fast on DuckDB, portable to PostgreSQL and Spark):

* ``simplify``: traditional → simplified characters (``zhconv``), full-width → half-width, spaces
  and the middle dot of transcribed names removed, Latin letters lower-cased.
* ``split_name``: surname (姓) and given name (名), with the compound surnames (复姓 欧阳, 司马…).
* ``pinyin``: toneless pinyin of every character (``pypinyin``), so homophones (王伟 / 王玮) agree;
  polyphonic surnames take their surname reading (单 shàn, 曾 zēng, 区 ōu…).
* ``fuzzy_pinyin``: the near-homophone key (模糊音): zh→z, ch→c, sh→s, n→l initials and
  eng→en, ing→in finals, so that 陈/程, 刘/牛, 沈/审 spoken with a southwestern accent agree.

Names are converted once per distinct value and characters once per distinct character: a million
names take a few seconds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import pandas as pd
from pypinyin import Style, lazy_pinyin

COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "闾丘",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "端木",
        "公冶",
        "太史",
        "申屠",
        "澹台",
        "濮阳",
        "万俟",
        "司空",
        "赫连",
        "拓跋",
        "上官",
    ]
)
# Surname readings of polyphonic characters (the default reading is the common word's).
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "区": "ou", "仇": "qiu", "解": "xie", "查": "zha", "朴": "piao",
    "秘": "bi", "乐": "yue", "覃": "qin", "翟": "zhai", "盖": "ge", "缪": "miao", "召": "shao",
    "繁": "po", "种": "chong", "员": "yun", "车": "che", "柏": "bai", "贲": "ben", "隗": "wei",
    "尉迟": "yuchi", "万俟": "moqi", "长孙": "zhangsun", "重": "chong", "相": "xiang", "沈": "shen",
    "任": "ren", "华": "hua", "燕": "yan", "纪": "ji", "冼": "xian", "黑": "he", "折": "she",
}  # fmt: skip

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DROP = re.compile(r"[\s·•・．.\-_'’,，]+")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


@lru_cache(maxsize=1)
def _to_simplified_table() -> dict[int, str]:
    """Traditional → simplified, character by character (zhconv's one-to-one zh-Hans/zh-CN
    entries): ``str.translate`` with it is a hundred times faster than ``zhconv.convert``."""
    from zhconv import zhconv as _z

    _z.loaddict()
    table: dict[int, str] = {}
    for name in ("zh2Hans", "zh2CN"):
        for trad, simp in _z.zhcdicts[name].items():
            if len(trad) == 1 and len(simp) == 1:
                table[ord(trad)] = simp
    return table


@lru_cache(maxsize=1)
def _traditional_re() -> re.Pattern[str]:
    chars = "".join(re.escape(chr(c)) for c in sorted(_to_simplified_table()))
    return re.compile(f"[{chars}]")


def to_simplified(text: str) -> str:
    """Simplified characters (only strings holding a traditional character are translated)."""
    return text.translate(_to_simplified_table()) if _traditional_re().search(text) else text


@lru_cache(maxsize=200_000)
def simplify(text: str) -> str:
    """Normalised form of a name: NFKC (full-width → half-width), simplified characters, no spaces
    or dots inside a Chinese name, single spaces and lower case in a Latin one."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).strip()
    if has_cjk(text):
        return _DROP.sub("", to_simplified(text))
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@lru_cache(maxsize=200_000)
def simplify_address(text: str) -> str:
    """Normalised address: NFKC, simplified characters, no whitespace, lower case."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", "", to_simplified(text)).lower()


def simplify_addresses(values: pd.Series) -> pd.Series:
    """``simplify_address`` of a whole column, vectorised (nulls stay null)."""
    mask = values.isna()
    text = values.where(~mask, "").astype(str).str.normalize("NFKC")
    trad = text.str.contains(_traditional_re(), regex=True)
    if trad.any():
        text[trad] = text[trad].str.translate(_to_simplified_table())
    text = text.str.replace(r"\s+", "", regex=True).str.lower()
    return text.where(~mask & (text != ""), None)


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a normalised name. Chinese: a compound surname when the first two
    characters are one, else the first character. Latin ``given family`` order is not guessed:
    the last word is taken as the surname (the swap comparison catches the other order)."""
    if not name:
        return "", ""
    if has_cjk(name):
        if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
            return name[:2], name[2:]
        return name[:1], name[1:]
    words = name.split()
    if len(words) == 1:
        return words[0], ""
    return words[-1], " ".join(words[:-1])


@lru_cache(maxsize=50_000)
def _char_pinyin(char: str) -> str:
    if not _CJK.match(char):
        return char.lower() if char.isalnum() else ""
    return lazy_pinyin(char, style=Style.NORMAL, errors="ignore")[0] if char else ""


@lru_cache(maxsize=200_000)
def pinyin(text: str, *, surname: bool = False) -> str:
    """Toneless pinyin, syllables separated by spaces (``wang wei``); Latin words pass through."""
    if not text:
        return ""
    if not has_cjk(text):
        return " ".join(text.lower().split())
    if surname and text in SURNAME_READINGS:
        return SURNAME_READINGS[text]
    out = []
    for i, char in enumerate(text):
        if surname and i == 0 and char in SURNAME_READINGS:
            out.append(SURNAME_READINGS[char])
        else:
            syllable = _char_pinyin(char)
            if syllable:
                out.append(syllable)
    return " ".join(out)


_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FINALS = (("eng", "en"), ("ing", "in"))


@lru_cache(maxsize=5_000)
def fuzzy_syllable(syllable: str) -> str:
    for long, short in _INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


@lru_cache(maxsize=200_000)
def fuzzy_pinyin(pinyin_text: str) -> str:
    """Near-homophone key (模糊音) of a spaced pinyin string: ``zhang sheng`` → ``zang sen``."""
    return " ".join(fuzzy_syllable(s) for s in pinyin_text.split())


def name_columns(
    full_names: Iterable[str | None],
    surnames: Iterable[str | None] | None = None,
    given_names: Iterable[str | None] | None = None,
) -> pd.DataFrame:
    """Helper columns of a sequence of full names (one row per name, same order):

    ``full_name`` (normalised), ``surname``, ``given_name``, ``name_py`` (pinyin without spaces),
    ``name_py_fz`` (near-homophone key), ``surname_py``, ``given_py``, ``given_py_fz`` and
    ``name_sorted`` (words sorted, for the surname/given-name swap of Latin names).
    Surnames and given names are split from the full name unless given. Computed once per
    distinct value.
    """
    full = pd.Series(list(full_names), dtype=object).fillna("").astype(str)
    sur = (
        pd.Series(list(surnames), dtype=object).fillna("").astype(str)
        if surnames is not None
        else pd.Series("", index=full.index)
    )
    giv = (
        pd.Series(list(given_names), dtype=object).fillna("").astype(str)
        if given_names is not None
        else pd.Series("", index=full.index)
    )
    key = full + "\x1f" + sur.values + "\x1f" + giv.values
    codes, uniques = pd.factorize(key, sort=False)
    table = pd.DataFrame([_name_row(*u.split("\x1f")) for u in uniques], columns=NAME_COLUMNS)
    if len(codes) == 0:
        return table
    return table.iloc[codes].reset_index(drop=True)


NAME_COLUMNS = [
    "full_name",
    "surname",
    "given_name",
    "name_py",
    "name_py_fz",
    "surname_py",
    "given_py",
    "given_py_fz",
    "name_sorted",
]


def _name_row(raw: str, raw_surname: str = "", raw_given: str = "") -> tuple[str, ...]:
    name = simplify(raw)
    surname, given = (simplify(raw_surname), simplify(raw_given)) if raw_surname or raw_given else ("", "")
    if not name:
        name = (surname + given) if has_cjk(surname + given) else f"{given} {surname}".strip()
    if not surname and not given:
        surname, given = split_name(name)
    return name_parts_row(name, surname, given)


def _syllables(text: str) -> list[str]:
    return [y for y in (_char_pinyin(c) for c in text) if y]


def name_parts_row(name: str, surname: str, given: str) -> tuple[str, ...]:
    """The helper columns (``NAME_COLUMNS``) of one normalised name and its parts."""
    if not has_cjk(name):
        flat = name.replace(" ", "")
        s_py, g_py = surname.replace(" ", ""), given.replace(" ", "")
        return (name, surname, given, flat, flat, s_py, g_py, g_py, " ".join(sorted(name.split())))
    reading = SURNAME_READINGS.get(surname) or SURNAME_READINGS.get(surname[:1])
    s_syl = [reading] if reading else _syllables(surname)
    g_syl = _syllables(given)
    s_py, g_py = "".join(s_syl), "".join(g_syl)
    s_fz = "".join(fuzzy_syllable(y) for y in s_syl)
    g_fz = "".join(fuzzy_syllable(y) for y in g_syl)
    return (name, surname, given, s_py + g_py, s_fz + g_fz, s_py, g_py, g_fz, name)
