#!/usr/bin/env python3
"""Copy the pinned front-end libraries from node_modules/ into zhucheng/static/vendor/.

The platform runs offline (no CDN), so the copied files are committed and ``./zc demo``
needs no npm. Re-run after changing a version in package.json::

    npm ci && python3 scripts/vendor_static.py            # copy
    python3 scripts/vendor_static.py --check               # exit 1 if the copies differ

Only the standard library is used so the script runs before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "zhucheng" / "static" / "vendor"

# package name -> (vendor sub-directory, [(source path in the package, destination name)])
# Licence files travel with the code they cover; zrender is bundled inside echarts.min.js.
FILES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "htmx.org": ("htmx", [("dist/htmx.min.js", "htmx.min.js"), ("LICENSE", "LICENSE")]),
    "echarts": (
        "echarts",
        [
            ("dist/echarts.min.js", "echarts.min.js"),
            ("LICENSE", "LICENSE"),
            ("NOTICE", "NOTICE"),
            ("licenses/LICENSE-d3", "LICENSE-d3"),
        ],
    ),
    "zrender": ("echarts", [("LICENSE", "LICENSE-zrender")]),
    "leaflet": (
        "leaflet",
        [
            ("dist/leaflet.js", "leaflet.js"),
            # leaflet.js names its source map; the manifest storage of collectstatic needs it present.
            ("dist/leaflet.js.map", "leaflet.js.map"),
            ("dist/leaflet.css", "leaflet.css"),
            ("dist/images", "images"),
            ("LICENSE", "LICENSE"),
        ],
    ),
}


def _installed_version(package: str) -> str:
    meta = NODE_MODULES / package / "package.json"
    if not meta.exists():
        sys.exit(f"{meta} is missing: run `npm ci` first")
    return str(json.loads(meta.read_text(encoding="utf-8"))["version"])


def _pinned_versions() -> dict[str, str]:
    data = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    return dict(data.get("devDependencies", {}))


def _same(src: Path, dst: Path) -> bool:
    if src.is_dir():
        if not dst.is_dir():
            return False
        cmp = filecmp.dircmp(src, dst)
        return not (cmp.left_only or cmp.right_only or cmp.diff_files)
    return dst.exists() and filecmp.cmp(src, dst, shallow=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a copy differs")
    args = parser.parse_args()

    pinned = _pinned_versions()
    versions: dict[str, str] = {}
    stale: list[str] = []
    for package, (subdir, files) in FILES.items():
        version = _installed_version(package)
        if package in pinned and pinned[package] != version:
            sys.exit(f"node_modules has {package} {version} but package.json pins {pinned[package]}: run `npm ci`")
        versions[package] = version
        target = VENDOR / subdir
        for src_name, dst_name in files:
            src, dst = NODE_MODULES / package / src_name, target / dst_name
            if _same(src, dst):
                continue
            stale.append(str(dst.relative_to(ROOT)))
            if args.check:
                continue
            target.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(src, dst)
            else:
                shutil.copyfile(src, dst)

    manifest = VENDOR / "VERSIONS.json"
    wanted = json.dumps(versions, indent=2, sort_keys=True) + "\n"
    if not manifest.exists() or manifest.read_text(encoding="utf-8") != wanted:
        stale.append(str(manifest.relative_to(ROOT)))
        if not args.check:
            manifest.write_text(wanted, encoding="utf-8")

    if args.check:
        for name in stale:
            print(f"differs: {name}")
        return 1 if stale else 0
    for name in stale:
        print(f"copied: {name}")
    print("vendored: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
