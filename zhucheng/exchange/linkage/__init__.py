"""比对引擎 (exchange.linkage): splink-based record linkage with Chinese-aware name comparisons.

    from zhucheng.exchange import linkage
    p = linkage.load_profile("person")              # or a JSON/YAML path
    pairs = linkage.dedupe(p, df)                   # left_id, right_id, match_weight, match_probability
    pairs = linkage.link(p, registry_df, feed_df)   # incremental: feed against registry (predict_between)
    p = linkage.train(p, df, save_to=None)          # prior + u (random sampling) + m (EM); saves the model
    rows = linkage.explain(p, left, right)          # waterfall rows; rows.match_probability
    df = linkage.person_frame(Person.objects.all())

See ``engine`` for the backends (DuckDB by default; PostgreSQL and Spark by configuration) and
``README.md`` for the profiles.
"""

from .engine import (
    PAIR_COLUMNS,
    PROFILES_DIR,
    Explanation,
    Profile,
    Thresholds,
    backend_name,
    best_links,
    db_api,
    dedupe,
    explain,
    link,
    load_profile,
    person_frame,
    prepare,
    read_table,
    train,
    write_pairs,
)

__all__ = [
    "PAIR_COLUMNS",
    "PROFILES_DIR",
    "Explanation",
    "Profile",
    "Thresholds",
    "backend_name",
    "best_links",
    "db_api",
    "dedupe",
    "explain",
    "link",
    "load_profile",
    "person_frame",
    "prepare",
    "read_table",
    "train",
    "write_pairs",
]
