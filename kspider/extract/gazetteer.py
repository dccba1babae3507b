"""Place names of the region (data in data/gazetteer.json) and finding them in text.

The region's places are data, not code: add a town to the JSON file and every
spider's ad extraction knows it. See the file's ``_doc`` for its structure.

City convention: ``city`` is the county-level unit of the market (昆山, 太仓,
Shanghai's districts 嘉定/青浦 …; 苏州 for Suzhou's urban districts) and
``district`` the level below it (周市, 安亭, 吴中 …), both without 市/区/镇.
"""
from __future__ import annotations

import importlib.resources
import json
import re
from dataclasses import dataclass
from functools import lru_cache

# Through importlib.resources: a deployed Scrapyd egg is a zip file, not a directory.
GAZETTEER_PATH = importlib.resources.files("kspider.extract") / "data" / "gazetteer.json"

# Administrative suffixes written after a name (昆山市, 吴中区, 周市镇, 浦东新区).
_SUFFIX = "(?:新区|街道|市|区|县|镇)?"


@dataclass(frozen=True)
class Place:
    """One mention of a place: where it is in the text and what it resolves to."""

    surface: str  # as written, suffix included ("周市镇")
    start: int
    end: int
    city: str
    district: str | None
    weak: bool = False  # bare generic name (高新区): counts only when nothing else is named
    parent: str | None = None  # the prefecture of `city` (嘉定 → 上海, 昆山 → 苏州), if any


def _district_name(key: str) -> str:
    # A key written with 镇 (凤凰镇) is matched only with it, but reported without it.
    return key[:-1] if key.endswith("镇") and len(key) > 2 else key


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, tuple[str, str | None, bool, str | None]], re.Pattern[str]]:
    data = json.loads(GAZETTEER_PATH.read_text(encoding="utf-8"))
    names: dict[str, tuple[str, str | None, bool, str | None]] = {}
    for city, entry in data["cities"].items():
        parent = entry.get("parent")
        for surface in [city, *entry.get("aliases", [])]:
            names.setdefault(surface, (city, None, False, parent))
        for district, unit in entry.get("districts", {}).items():
            for surface in [district, *unit.get("aliases", []), *unit.get("towns", [])]:
                names.setdefault(surface, (city, _district_name(district), False, parent))
    for surface, target in data.get("weak", {}).items():
        city = target["city"]
        names.setdefault(surface, (city, target.get("district"), True, data["cities"][city].get("parent")))
    # Longest name first, so 昆山高新区 wins over 昆山 and 陆家嘴 over 陆家.
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return names, re.compile(f"({alternation}){_SUFFIX}")


def find_places(text: str) -> list[Place]:
    """Every gazetteer place named in `text`, in order, non-overlapping."""
    if not text:
        return []
    names, pattern = _index()
    places = []
    for match in pattern.finditer(text):
        city, district, weak, parent = names[match.group(1)]
        places.append(Place(match.group(0), match.start(), match.end(), city, district, weak, parent))
    return places


def known_cities() -> list[str]:
    """The cities of the gazetteer (top level)."""
    data = json.loads(GAZETTEER_PATH.read_text(encoding="utf-8"))
    return list(data["cities"])
