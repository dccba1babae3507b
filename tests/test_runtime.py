"""The crawl's garbage-collector settings (kspider.runtime)."""
from __future__ import annotations

import gc

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from kspider.runtime import GarbageCollectorTuning


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_engine_start_freezes_start_up_objects_and_sets_the_young_threshold(restored_gc) -> None:
    ext = GarbageCollectorTuning.from_crawler(get_crawler(settings_dict={"GC_GEN0_THRESHOLD": 12345}))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    ext.engine_started()
    assert gc.get_threshold()[0] == 12345
    # the modules, settings and this crawler built so far
    assert gc.get_freeze_count() > 1000


def test_zero_threshold_keeps_pythons_own(restored_gc) -> None:
    gc.set_threshold(700, 10, 10)
    ext = GarbageCollectorTuning.from_crawler(
        get_crawler(settings_dict={"GC_GEN0_THRESHOLD": 0, "GC_FREEZE_AT_START": True}))
    ext.engine_started()
    assert gc.get_threshold() == (700, 10, 10)


def test_both_off_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        GarbageCollectorTuning.from_crawler(
            get_crawler(settings_dict={"GC_GEN0_THRESHOLD": 0, "GC_FREEZE_AT_START": False}))
