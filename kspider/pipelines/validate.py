"""Validation: items with a missing required field or a wrong type are dropped, logged and counted."""
from __future__ import annotations

import functools
import logging
import types
import typing
from dataclasses import fields
from typing import Any, Union

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from kspider.items import ENUMS, REQUIRED_FIELDS, Article, RentalAd

logger = logging.getLogger(__name__)

_ITEM_TYPES = {Article: "article", RentalAd: "rental_ad"}


@functools.lru_cache(maxsize=None)
def _field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, resolved annotation) of a dataclass's fields, resolved once per class."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints.get(f.name, Any)) for f in fields(cls))


def _accepts(annotation: Any, value: Any) -> bool:
    """Whether a value fits a dataclass field annotation (Optional, list[...], dict, scalars)."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is list:
        (inner,) = typing.get_args(annotation) or (Any,)
        return isinstance(value, list) and all(_accepts(inner, v) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if annotation is Any:
        return True
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def validation_errors(item: Any) -> list[str]:
    """Names of the fields that make an item invalid ("field" or "field:type")."""
    cls = type(item)
    errors: list[str] = []
    adapter = ItemAdapter(item)
    for name, annotation in _field_types(cls):
        value = adapter.get(name)
        if not _accepts(annotation, value):
            errors.append(name)
        elif name in ENUMS and value is not None and value not in ENUMS[name]:
            errors.append(name)
    for name in REQUIRED_FIELDS.get(cls, ()):
        value = adapter.get(name)
        if value is None or value == "" or value == []:
            if name not in errors:
                errors.append(name)
    return errors


class ValidationPipeline:
    def __init__(self, stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item: Any, spider=None) -> Any:
        kind = _ITEM_TYPES.get(type(item))
        if kind is None:
            self.stats.inc_value("item_invalid/unknown_type")
            raise DropItem(f"unknown item type {type(item).__name__}")
        errors = validation_errors(item)
        if errors:
            adapter = ItemAdapter(item)
            where = adapter.get("url") or (adapter.get("seen_on") or [None])[0]
            for name in errors:
                self.stats.inc_value(f"item_invalid/{kind}/{name}")
            logger.warning("dropping invalid %s from %s: bad or missing field(s) %s", kind, where, ", ".join(errors))
            raise DropItem(f"invalid {kind} ({', '.join(errors)}) from {where}")
        self.stats.inc_value(f"item_valid/{kind}")
        return item
