"""Validation: items with a missing required field or a wrong type are dropped, logged and counted."""
from __future__ import annotations

import functools
import logging
import types
import typing
from dataclasses import fields
from typing import Any, Callable, Union

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


@functools.lru_cache(maxsize=None)
def _checker(annotation: Any) -> Callable[[Any], bool]:
    """A function telling whether a value fits the annotation, built once per annotation (every
    item has the same few: reading them apart for each value cost more than the check)."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = typing.get_args(annotation)
        others = tuple(_checker(arg) for arg in args if arg is not type(None))
        if len(others) == 1 and len(args) == 2:  # Optional[X]
            (other,) = others
            return lambda value: value is None or other(value)
        alternatives = tuple(_checker(arg) for arg in args)
        return lambda value: any(check(value) for check in alternatives)
    if annotation is type(None):
        return lambda value: value is None
    if origin is list:
        (inner,) = typing.get_args(annotation) or (Any,)
        if inner is Any:
            return lambda value: isinstance(value, list)
        check_inner = _checker(inner)
        return lambda value: isinstance(value, list) and all(check_inner(v) for v in value)
    if origin is dict:
        return lambda value: isinstance(value, dict)
    if annotation is Any:
        return lambda value: True
    if annotation is float:
        return lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    return lambda value: isinstance(value, annotation)


@functools.lru_cache(maxsize=None)
def _field_checks(cls: type) -> tuple[tuple[str, Callable[[Any], bool], Any], ...]:
    """(name, value check, allowed values or None) of each field of an item class."""
    return tuple((name, _checker(annotation), ENUMS.get(name)) for name, annotation in _field_types(cls))


def validation_errors(item: Any) -> list[str]:
    """Names of the fields that make an item invalid ("field" or "field:type")."""
    cls = type(item)
    errors: list[str] = []
    # Items are dataclasses (kspider.items): their fields are attributes, read as ItemAdapter would.
    for name, check, allowed in _field_checks(cls):
        value = getattr(item, name, None)
        if not check(value):
            errors.append(name)
        elif allowed is not None and value is not None and value not in allowed:
            errors.append(name)
    for name in REQUIRED_FIELDS.get(cls, ()):
        value = getattr(item, name, None)
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
