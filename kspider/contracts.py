"""Scrapy contracts of the project (``scrapy check``), registered in ``SPIDER_CONTRACTS``.

Scrapy's own ``@scrapes`` only asks that an item *has* the named fields, and a
dataclass item always has all of its fields (``None`` when nothing was found),
so it can never fail. The contracts here look at values:

- ``@scrapes FIELD …`` (replaces Scrapy's): every item whose type declares all
  the named fields carries a non-empty value for each (``None``, ``""`` and
  ``[]`` count as missing), and there is at least one such item. So on a post
  page ``@scrapes title published_at content_text`` checks the article and
  leaves the rental ads of the same page alone.
- ``@value FIELD TEXT``: some item's FIELD equals TEXT (the rest of the line;
  numbers and lists compare by their JSON form, e.g. ``@value views 38``,
  ``@value seen_on ["http://…"]``).
- ``@follows URL``: the callback requests URL (e.g. the next listing page).
- ``@browser``: the sample request is rendered in Chromium (scrapy-playwright),
  as the spider does for pages filled by JavaScript.

Run them against the shipped fixtures: ``REPLAY_DIR=fixtures scrapy check``.
"""
from __future__ import annotations

import json
from typing import Any

from itemadapter import ItemAdapter, is_item
from scrapy.contracts import Contract
from scrapy.exceptions import ContractFail
from scrapy.http import Request


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class ScrapesContract(Contract):
    """``@scrapes FIELD …``: the items that declare these fields carry a value for each."""

    name = "scrapes"

    def post_process(self, output: list[Any]) -> None:
        checked = 0
        for obj in output:
            if not is_item(obj):
                continue
            adapter = ItemAdapter(obj)
            if not all(name in adapter.field_names() for name in self.args):
                continue
            checked += 1
            missing = [name for name in self.args if _empty(adapter.get(name))]
            if missing:
                raise ContractFail(f"{type(obj).__name__} {adapter.get('url') or adapter.get('_id')}: "
                                   f"no value for {', '.join(missing)}")
        if not checked:
            raise ContractFail(f"no item with the fields {', '.join(self.args)}")


class ValueContract(Contract):
    """``@value FIELD TEXT``: some item has exactly this value in FIELD."""

    name = "value"

    def post_process(self, output: list[Any]) -> None:
        field, expected = self.args[0], " ".join(self.args[1:])
        seen = []
        for obj in output:
            if is_item(obj):
                adapter = ItemAdapter(obj)
                if field in adapter.field_names():
                    got = _as_text(adapter.get(field))
                    if got == expected:
                        return
                    seen.append(got)
        raise ContractFail(f"no item with {field} = {expected!r} (got {seen!r})")


class FollowsContract(Contract):
    """``@follows URL``: some request the callback yields is for URL."""

    name = "follows"

    def post_process(self, output: list[Any]) -> None:
        urls = [obj.url for obj in output if isinstance(obj, Request)]
        if self.args[0] not in urls:
            raise ContractFail(f"no request for {self.args[0]} (requests: {urls!r})")


class BrowserContract(Contract):
    """``@browser``: render the sample page in Chromium and capture the JSON it fetches."""

    name = "browser"

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        from kspider.spiders.matchexpo import browser_meta

        args["meta"] = {**(args.get("meta") or {}), **browser_meta(capture_json=True)}
        return args
