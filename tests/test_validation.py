"""The validation pipeline: bad items are dropped on purpose, logged with field and URL, counted."""
from __future__ import annotations

import logging

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from kspider.items import Article, RentalAd
from kspider.pipelines.validate import ValidationPipeline, validation_errors

URL = "http://suzhou.021cf.cn/index.php/post/532.html"


def article(**overrides) -> Article:
    values = dict(
        _id="8d3f1c", url=URL, canonical_url=URL, site="suzhou.021cf.cn", spider="021cf",
        title="2024年嘉昆太协同创新核心圈轮值会议在太仓举行", content_text="风起长三角,潮涌嘉昆太。",
        crawled_at="2026-02-19T08:00:00+00:00", views=112, published_at="2024-09-20T00:00:00+08:00",
        date_precision="day",
    )
    values.update(overrides)
    return Article(**values)


def ad(**overrides) -> RentalAd:
    values = dict(_id="a1", kind="inline", seen_on=[URL], raw_text="标准厂房1100平起 现房", site="suzhou.021cf.cn",
                  spider="021cf", crawled_at="2026-02-19T08:00:00+00:00", area_sqm_min=1100, area_sqm_max=None)
    values.update(overrides)
    return RentalAd(**values)


@pytest.fixture
def pipeline():
    crawler = get_crawler()
    return ValidationPipeline.from_crawler(crawler), crawler.stats


def test_valid_items_pass_unchanged(pipeline):
    pipe, stats = pipeline
    item = article()
    assert pipe.process_item(item) is item
    assert pipe.process_item(ad()).area_sqm_min == 1100
    assert stats.get_value("item_valid/article") == 1
    assert stats.get_value("item_valid/rental_ad") == 1


@pytest.mark.parametrize("overrides, field", [
    ({"title": None}, "title"),
    ({"title": ""}, "title"),
    ({"content_text": ""}, "content_text"),
    ({"views": "38"}, "views"),            # a counter left as text
    ({"views": True}, "views"),            # bool is not a count
    ({"date_precision": "week"}, "date_precision"),
    ({"tags": "昆山平谦"}, "tags"),          # a list field given a string
    ({"images": [{"url": "x"}, "y"]}, "images"),
])
def test_invalid_article_is_dropped_logged_and_counted(pipeline, caplog, overrides, field):
    pipe, stats = pipeline
    with caplog.at_level(logging.WARNING), pytest.raises(DropItem):
        pipe.process_item(article(**overrides))
    assert stats.get_value(f"item_invalid/article/{field}") == 1
    assert field in caplog.text and URL in caplog.text


def test_invalid_ad_names_field_and_page(pipeline, caplog):
    pipe, stats = pipeline
    with caplog.at_level(logging.WARNING), pytest.raises(DropItem):
        pipe.process_item(ad(deal_type="lease", area_sqm_min="1100平"))
    assert stats.get_value("item_invalid/rental_ad/deal_type") == 1
    assert stats.get_value("item_invalid/rental_ad/area_sqm_min") == 1
    assert URL in caplog.text


def test_unknown_item_type_is_dropped(pipeline):
    pipe, stats = pipeline
    with pytest.raises(DropItem):
        pipe.process_item({"title": "a dict is not an item of this project"})
    assert stats.get_value("item_invalid/unknown_type") == 1


def test_numbers_accept_ints_for_float_fields():
    assert validation_errors(ad(area_sqm_min=1100, price_value=0.9, land_area_mu=3)) == []
