"""Generators of realistic registry values: valid resident ID numbers, Chinese names, phones, ages,
ethnicities, education, jobs, and Guiyang street names — vectorised with numpy for millions of rows.

ID numbers follow GB 11643-1999: a real six-digit division code (Guiyang's districts for the
registered population; migrants' home counties in Guizhou and the neighbouring provinces, from
python-stdnum's table), the birth date, a three-digit sequence (odd for men, even for women) and
the ISO 7064 MOD 11-2 check digit. Surnames follow Faker zh_CN's frequency table; given names
mix Faker's with two-character combinations. Every function draws from the generator it is given.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import numpy as np
from faker.providers.job.zh_CN import Provider as _Jobs
from faker.providers.person.zh_CN import Provider as _Names
from stdnum import numdb

# --- regions --------------------------------------------------------------------------------------

# Guiyang's districts and counties (division code → share of the registered population).
GUIYANG_DISTRICTS: dict[str, float] = {
    "520102": 0.17,  # 南明区
    "520103": 0.19,  # 云岩区
    "520111": 0.10,  # 花溪区
    "520112": 0.06,  # 乌当区
    "520113": 0.06,  # 白云区
    "520115": 0.10,  # 观山湖区
    "520121": 0.07,  # 开阳县
    "520122": 0.05,  # 息烽县
    "520123": 0.06,  # 修文县
    "520181": 0.14,  # 清镇市
}
# Where migrants come from: division-code prefix → share (most from elsewhere in Guizhou).
MIGRANT_ORIGINS: dict[str, float] = {
    "5205": 0.16, "5203": 0.10, "5227": 0.09, "5226": 0.09, "5204": 0.07, "5206": 0.06, "5202": 0.05, "5223": 0.05,
    "51": 0.08, "50": 0.06, "43": 0.05, "53": 0.05, "45": 0.03, "42": 0.02, "36": 0.02, "41": 0.02,
}  # fmt: skip

WEIGHTS = np.array([2 ** (17 - i) % 11 for i in range(17)], dtype=np.int64)
CHECK_CHARS = "10X98765432"
_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)


@lru_cache(maxsize=64)
def county_codes(prefix: str) -> tuple[str, ...]:
    """County-level division codes (``xxxxNN``, NN ≠ 00) starting with ``prefix``."""
    codes = []
    for _length, low, _high, _props, _children in numdb.get("cn/loc").prefixes:
        if low.startswith(prefix) and len(low) == 6 and not low.endswith("00") and low[2:4] != "00":
            codes.append(low)
    return tuple(sorted(set(codes)))


@lru_cache(maxsize=4096)
def region_name(code: str) -> str:
    """``贵州省贵阳市南明区`` for ``520102`` (empty when unknown)."""
    parts = numdb.get("cn/loc").info(code)
    if len(parts) != 1 or parts[0][0] != code:
        return ""
    props = parts[0][1]
    prefecture = props.get("prefecture", "")
    prefecture = "" if prefecture in ("市辖区", "县") else prefecture
    return f"{props.get('province', '')}{prefecture}{props.get('county', '')}"


def sample_regions(rng: np.random.Generator, n: int, shares: dict[str, float]) -> np.ndarray:
    """``n`` county codes: a prefix by its share, then a county within it uniformly."""
    prefixes = list(shares)
    weights = np.array([shares[p] for p in prefixes], dtype=float)
    picks = rng.choice(len(prefixes), size=n, p=weights / weights.sum())
    out = np.empty(n, dtype="U6")
    for k, prefix in enumerate(prefixes):
        idx = np.flatnonzero(picks == k)
        codes = county_codes(prefix) if len(prefix) < 6 else (prefix,)
        out[idx] = np.array(codes)[rng.integers(0, len(codes), size=len(idx))]
    return out


# --- ID numbers -----------------------------------------------------------------------------------


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS.tolist(), strict=True)) % 11]


def make_id_number(region: str, born: date, seq: int) -> str:
    """One valid ID number: region code, birth date, sequence 0–999 (odd: man), check digit."""
    first17 = f"{region}{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_digit(first17)


def _digits(keys: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (keys[:, None] // powers[None, :]) % 10


def id_numbers(rng: np.random.Generator, regions: np.ndarray, births: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Distinct valid ID numbers for people with these region codes, birth dates (datetime64[D]) and sexes."""
    n = len(regions)
    if n == 0:
        return np.empty(0, dtype="U18")
    day = births.astype("datetime64[D]")
    years = day.astype("datetime64[Y]").astype(np.int64) + 1970
    months = day.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (day - day.astype("datetime64[M]")).astype(np.int64) + 1
    stem = regions.astype(np.int64) * 10**8 + years * 10**4 + months * 100 + days
    sexbit = male.astype(np.int64)
    seq = rng.integers(0, 500, size=n) * 2 + sexbit
    keys = stem * 1000 + seq
    # Two people with the same region, birthday and sequence would share a number: redraw those.
    for _ in range(50):
        _, first = np.unique(keys, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        idx = np.flatnonzero(dup)
        keys[idx] = stem[idx] * 1000 + rng.integers(0, 500, size=len(idx)) * 2 + sexbit[idx]
    else:  # pragma: no cover - needs more than 500 people of one sex born on one day in one county
        raise ValueError("too many people share a region and birthday to give them distinct ID numbers")
    digits = _digits(keys, 17)
    check = _CHECK_BYTES[(digits @ WEIGHTS) % 11]
    ascii_matrix = np.empty((n, 18), dtype=np.uint8)
    ascii_matrix[:, :17] = digits + 48
    ascii_matrix[:, 17] = check
    return ascii_matrix.view("S18").ravel().astype("U18")


# --- people ---------------------------------------------------------------------------------------

SURNAMES = np.array(list(_Names.last_names.keys()))
_SURNAME_P = np.array(list(_Names.last_names.values()), dtype=float)
_SURNAME_P /= _SURNAME_P.sum()
_MALE_CHARS = tuple(
    dict.fromkeys(
        [n for n in _Names.first_names_male if len(n) == 1]
        + list("建国志明永海文华军平东俊宏家晓子浩宇博天思嘉一鹏杰涛斌刚勇磊峰辉林成德福生荣金光兴安顺祥瑞云龙振伟新世立正中卫红江山庆元")
    )
)
_FEMALE_CHARS = tuple(
    dict.fromkeys(
        [n for n in _Names.first_names_female if len(n) == 1]
        + list("秀美丽芳婷雅欣怡佳静琳雪梅兰娟霞燕玲萍红艳颖慧敏洁倩悦诗梦雨晨月凤桂英珍琴莉蓉露瑶涵萱妍婉")
    )
)
_MALE_WHOLE = tuple(n for n in _Names.first_names_male if len(n) == 2)
_FEMALE_WHOLE = tuple(n for n in _Names.first_names_female if len(n) == 2)


def names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """Chinese names: a surname by frequency, then one or two given-name characters by sex."""
    surname, given = name_parts(rng, male)
    return np.char.add(surname, given)


def name_parts(rng: np.random.Generator, male: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(surnames, given names) as ``names`` draws them, for callers that pass surnames on to children."""
    n = len(male)
    surname = SURNAMES[rng.choice(len(SURNAMES), size=n, p=_SURNAME_P)]
    given = np.empty(n, dtype="U2")
    for is_male, chars, whole in ((True, _MALE_CHARS, _MALE_WHOLE), (False, _FEMALE_CHARS, _FEMALE_WHOLE)):
        idx = np.flatnonzero(male == is_male)
        pool = np.array(chars)
        first = pool[rng.integers(0, len(pool), size=len(idx))]
        second = pool[rng.integers(0, len(pool), size=len(idx))]
        kind = rng.random(len(idx))
        two = np.char.add(first, second)
        picked = np.where(kind < 0.3, first, two)
        famous = kind > 0.95
        picked[famous] = np.array(whole)[rng.integers(0, len(whole), size=int(famous.sum()))]
        given[idx] = picked
    return surname, given


# Age bands (years, inclusive lower, exclusive upper) and their weights, registered and migrant.
_AGE_BANDS = np.array([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 100])
_AGE_P_PERMANENT = np.array([5.5, 6.0, 6.0, 5.5, 6.0, 7.0, 8.5, 8.0, 7.0, 7.5, 7.5, 6.5, 5.5, 4.5, 3.2, 2.2, 1.3, 0.6, 0.2])
_AGE_P_MIGRANT = np.array([5.0, 4.5, 3.5, 5.0, 13.0, 16.0, 15.0, 12.0, 9.0, 7.0, 5.0, 2.5, 1.2, 0.6, 0.4, 0.2, 0.1, 0.0, 0.0])


def ages(rng: np.random.Generator, n: int, *, migrant: bool) -> np.ndarray:
    """Ages in days, from the city's age pyramid (migrants: mostly of working age)."""
    p = _AGE_P_MIGRANT if migrant else _AGE_P_PERMANENT
    band = rng.choice(len(p), size=n, p=p / p.sum())
    low, high = _AGE_BANDS[band] * 365.25, _AGE_BANDS[band + 1] * 365.25
    return (low + rng.random(n) * (high - low)).astype(np.int64)


def birth_dates(today: date, age_days: np.ndarray) -> np.ndarray:
    return np.datetime64(today, "D") - age_days.astype("timedelta64[D]")


_MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 153, 155, 156, 157, 158, 159,
     166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 198, 199]
)  # fmt: skip


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    numbers = _MOBILE_PREFIXES[rng.integers(0, len(_MOBILE_PREFIXES), size=n)].astype(np.int64) * 10**8 + rng.integers(0, 10**8, size=n)
    return numbers.astype("U11")


ETHNICITY_SHARES: dict[str, float] = {
    "汉族": 0.80, "苗族": 0.07, "布依族": 0.07, "土家族": 0.015, "侗族": 0.015, "彝族": 0.01, "仡佬族": 0.005,
    "水族": 0.005, "回族": 0.005, "白族": 0.002, "壮族": 0.002, "满族": 0.001,
}  # fmt: skip


def choose(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(shares))
    p = np.array(list(shares.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


_EDU_ADULT = {"none": 3, "primary": 15, "junior": 30, "senior": 16, "vocational": 7, "college": 12, "bachelor": 14, "master": 2.5, "doctor": 0.5}
_EDU_ELDER = {"none": 15, "primary": 35, "junior": 27, "senior": 12, "vocational": 3, "college": 4, "bachelor": 3.5, "master": 0.4, "doctor": 0.1}


def educations(rng: np.random.Generator, age_years: np.ndarray) -> np.ndarray:
    """Highest education by age (children by school stage)."""
    n = len(age_years)
    out = choose(rng, _EDU_ADULT, n).astype("U12")
    elders = age_years >= 60
    out[elders] = choose(rng, _EDU_ELDER, int(elders.sum()))
    out[age_years < 7] = "none"
    out[(age_years >= 7) & (age_years < 13)] = "primary"
    out[(age_years >= 13) & (age_years < 16)] = "junior"
    teen = (age_years >= 16) & (age_years < 19)
    out[teen] = np.where(rng.random(int(teen.sum())) < 0.8, "senior", "junior")
    return out


def employment_statuses(rng: np.random.Generator, age_years: np.ndarray, *, unknown_share: float = 0.03) -> np.ndarray:
    """Employment status by age; ``unknown_share`` of adults left unrecorded (a gap the five knowns show)."""
    n = len(age_years)
    r = rng.random(n)
    out = np.full(n, "employed", dtype="U12")
    out[age_years < 6] = "child"
    out[(age_years >= 6) & (age_years < 18)] = "student"
    young = (age_years >= 18) & (age_years < 23)
    out[young & (r < 0.45)] = "student"
    out[young & (r >= 0.90)] = "unemployed"
    working = (age_years >= 23) & (age_years < 60)
    out[working & (r >= 0.80) & (r < 0.88)] = "unemployed"
    out[working & (r >= 0.88) & (r < 0.93)] = "other"
    out[working & (r >= 0.93) & (r < 0.95)] = "unable"
    old = age_years >= 60
    out[old] = "retired"
    out[old & (r < 0.08)] = "employed"
    out[old & (r >= 0.92)] = "unable"
    adults = age_years >= 18
    out[adults & (rng.random(n) < unknown_share)] = ""
    return out


_COMMON_JOBS = (
    "个体工商户", "快递员", "外卖骑手", "建筑工人", "教师", "医生", "护士", "公务员", "销售员", "司机", "厨师", "保安",
    "保洁员", "服务员", "会计", "软件工程师", "电工", "营业员", "数据标注员", "客服专员", "装修工", "物业管理员",
)  # fmt: skip
JOBS = np.array(tuple(dict.fromkeys(_COMMON_JOBS + tuple(j for j in _Jobs.jobs if j != "其他" and "…" not in j and len(j) <= 20))))
_EMPLOYER_PLACES = ("贵阳", "贵州", "筑城", "黔灵", "南明", "云岩", "花溪", "观山湖", "乌当", "白云", "清镇", "修文")
_EMPLOYER_WORDS = (
    "大数据", "云计算", "商贸", "建设", "物流", "餐饮", "酒店管理", "医药", "农业发展", "旅游开发", "电子科技", "物业服务",
    "汽车服务", "装饰工程", "教育咨询", "食品", "家政服务", "电力工程", "茶业", "文化传媒",
)  # fmt: skip
_EMPLOYER_SUFFIX = ("有限公司", "有限责任公司", "股份有限公司")
_PUBLIC_EMPLOYERS = (
    "贵阳市第一人民医院", "贵州医科大学附属医院", "贵州大学", "贵阳学院", "南明区人民政府", "云岩区人民政府", "贵阳市第一中学",
    "贵阳市实验小学", "贵阳市公共交通集团有限公司", "贵阳市城市管理局", "中国移动贵州分公司", "贵州电网有限责任公司",
)  # fmt: skip


def employers(rng: np.random.Generator, n: int, *, pool: int = 4000) -> np.ndarray:
    """Employer names drawn from a pool of generated companies and real public bodies."""
    base = np.char.add(
        np.char.add(np.array(_EMPLOYER_PLACES)[rng.integers(0, len(_EMPLOYER_PLACES), pool)], np.array(_EMPLOYER_WORDS)[rng.integers(0, len(_EMPLOYER_WORDS), pool)]),
        np.array(_EMPLOYER_SUFFIX)[rng.integers(0, len(_EMPLOYER_SUFFIX), pool)],
    )
    names_pool = np.concatenate([base.astype("U40"), np.array(_PUBLIC_EMPLOYERS)])
    return names_pool[rng.integers(0, len(names_pool), size=n)]


def occupations(rng: np.random.Generator, n: int) -> np.ndarray:
    common = rng.random(n) < 0.6
    out = JOBS[rng.integers(0, len(JOBS), size=n)].astype("U20")
    out[common] = np.array(_COMMON_JOBS)[rng.integers(0, len(_COMMON_JOBS), size=int(common.sum()))]
    return out


# --- places ---------------------------------------------------------------------------------------

# Real street names, by district, for the urban door plates; more are generated from the word lists.
STREETS: dict[str, tuple[str, ...]] = {
    "520102": (
        "中华南路", "中华中路", "新华路", "遵义路", "解放路", "宝山南路", "市南路", "花果园大街", "油榨街", "沙冲路",
        "沙冲南路", "兴关路", "青云路", "箭道街", "都司路", "文昌南路", "护国路", "公园路", "湘雅路", "龙洞堡大道",
        "水口寺路", "五里冲路", "观水路", "浣纱路", "南明北路", "太慈路", "二戈街", "西湖路", "望城坡路", "电建路",
    ),
    "520103": (
        "中华北路", "延安东路", "延安中路", "延安西路", "北京路", "宝山北路", "瑞金北路", "瑞金中路", "富水北路", "公园北路",
        "黔灵东路", "黔灵西路", "威清路", "盐务街", "普陀路", "合群路", "贵乌北路", "贵乌南路", "枣山路", "头桥路",
        "文昌北路", "省府路", "中山东路", "中山西路", "大营坡路", "金关路", "三桥北路", "松山路", "市西路", "蔡家关路",
    ),
    "520111": ("花溪大道", "清溪路", "溪北路", "贵筑路", "黄河路", "明珠大道", "平桥路", "金竹路", "小河路", "兴隆街"),
    "520112": ("新添大道", "高新路", "顺新路", "振华路", "新创路", "云锦路", "东风大道", "水田路"),
    "520113": ("铝兴路", "大山洞路", "艳山红路", "泉湖路", "都溪路", "红云路", "云城大道", "龙井路"),
    "520115": ("金阳北路", "金阳南路", "长岭北路", "长岭南路", "林城东路", "林城西路", "金朱东路", "观山东路", "北京西路", "会展路"),
    "520121": ("紫兴路", "云开路", "开州大道", "城关路"),
    "520122": ("永阳路", "文化路", "永靖大道", "温泉路"),
    "520123": ("阳明路", "景阳路", "龙场大道", "扎佐路"),
    "520181": ("红塔路", "青龙路", "巢凤路", "百花路", "云岭路", "站街路"),
}
_STREET_HEADS = tuple("金银新东西南北中华兴和平安阳明光富云花桂松竹湖龙凤宝瑞福康春丰青翠碧黔筑德文")
_STREET_TAILS = ("路", "街", "巷", "大道", "北路", "南路", "东路", "西路")


def street_names(rng: np.random.Generator, district_code: str, count: int) -> list[str]:
    """``count`` distinct street names for a district: its real ones first, then generated ones."""
    names_out = list(STREETS.get(district_code, ()))[:count]
    used = set(names_out)
    while len(names_out) < count:
        a, b = rng.choice(len(_STREET_HEADS), size=2, replace=False)
        name = f"{_STREET_HEADS[a]}{_STREET_HEADS[b]}{_STREET_TAILS[int(rng.integers(0, len(_STREET_TAILS)))]}"
        if name not in used:
            used.add(name)
            names_out.append(name)
    return names_out
