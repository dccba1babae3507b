"""Scrapy's own tools on the project: ``scrapy check`` contracts, ``scrapy parse URL`` without ``-c``, no monitors.

The contracts live in the spiders' callback docstrings and run against the
shipped fixtures in replay (``REPLAY_DIR=fixtures/<spider>``); the values they assert
are the hand-written truths of each set's expected.json.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.exceptions import ContractFail

from kspider.contracts import FollowsContract, ScrapesContract, ValueContract
from kspider.items import Article, RentalAd

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SCRAPY = str(Path(sys.executable).with_name("scrapy"))
CALLBACKS = {
    "021cf": {"parse_listing", "parse_post"},
    "jssuxun": {"parse_article", "parse_listing"},
    "matchexpo": {"parse_article", "parse_listing"},
    "xinjiapo": {"parse_article", "parse_listing"},
}

pytestmark = pytest.mark.slow


def scrapy(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`scrapy ARGS` from a directory outside the checkout (the installed project), in replay
    (of every fixture set, unless REPLAY_DIR names one)."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("MONGO_URI", "RECORD_DIR", "PYTHONPATH", "SPIDERMON_ENABLED", "INCREMENTAL_ENABLED",
                            "STATS_FILE", "RUN_REPORT", "SPIDERMON_REPORT_FILE")}
    environ.update({"SCRAPY_SETTINGS_MODULE": "kspider.settings", "REPLAY_DIR": str(FIXTURES),
                    "EMBEDDED_DB_DIR": str(tmp_path / "db"), "SPIDERMON_REPORT_DIR": str(tmp_path / "reports"),
                    "RUN_REPORT_DIR": str(tmp_path / "reports"), **env})
    return subprocess.run([SCRAPY, *args], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=600)


def checking_contracts() -> int:
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    loader = SpiderLoader.from_settings(get_project_settings())
    n = 0
    for name, callbacks in CALLBACKS.items():
        for callback in callbacks:
            doc = getattr(loader.load(name), callback).__doc__ or ""
            n += sum(1 for line in doc.splitlines() if line.strip().startswith("@")
                     and line.split()[0] not in ("@url", "@browser"))
    return n


def test_scrapy_check_runs_every_spiders_contracts_against_the_fixtures(tmp_path: Path) -> None:
    listed = scrapy(tmp_path, "check", "-l")
    assert listed.returncode == 0, listed.stderr[-2000:]
    methods: dict[str, set[str]] = {}
    spider = ""
    for line in listed.stdout.splitlines():
        if line.startswith("  * "):
            methods.setdefault(spider, set()).add(line[4:].strip())
        elif line.strip():
            spider = line.strip()
    assert methods == CALLBACKS

    # Each spider against its own fixture set: sets of other renderings of the same hosts
    # (fixtures/*-alt, fixtures/021cf-real) answer the same URLs differently.
    ran = 0
    for spider in sorted(CALLBACKS):
        proc = scrapy(tmp_path, "check", spider, REPLAY_DIR=str(FIXTURES / spider))
        assert proc.returncode == 0, proc.stderr[-4000:]
        found = re.search(r"Ran (\d+) contracts", proc.stderr)
        assert found and proc.stderr.rstrip().endswith("OK"), proc.stderr[-2000:]
        ran += int(found.group(1))
    # One test per checking contract line (@url and @browser only shape the request).
    assert ran == checking_contracts() >= 40
    # Contracts do not store anything and do not run monitors.
    assert not (tmp_path / "reports").exists()


def test_a_wrong_value_fails_the_check(tmp_path: Path) -> None:
    """The contracts fail on output that lacks what they assert (here: a post whose date was not found)."""
    from kspider.spiders.zblog_tpure import ZblogTpureSpider

    method = ZblogTpureSpider().parse_post
    post = Article(url="http://suzhou.021cf.cn/index.php/post/532.html", title="2024年嘉昆太协同创新核心圈轮值会议在太仓举行",
                   published_at=None, content_text="4月18日，2024年嘉昆太协同创新核心圈轮值会议在太仓举行。")
    ad = RentalAd(raw_text="标准厂房1100平起", park_name="太仓事达产业园", area_sqm_min=1100)
    # Scrapy's own @scrapes passes here (the dataclass has every field); ours asks for values.
    with pytest.raises(ContractFail, match="no value for published_at"):
        ScrapesContract(method, "title", "published_at", "content_text").post_process([post, ad])
    ScrapesContract(method, "title", "content_text").post_process([post, ad])
    with pytest.raises(ContractFail, match="no item with the fields"):
        ScrapesContract(method, "title", "content_text").post_process([ad])
    ValueContract(method, "park_name", "太仓事达产业园").post_process([post, ad])
    ValueContract(method, "area_sqm_min", "1100").post_process([post, ad])
    with pytest.raises(ContractFail, match="views"):
        ValueContract(method, "views", "126").post_process([post, ad])
    with pytest.raises(ContractFail, match="no request for"):
        FollowsContract(method, "http://suzhou.021cf.cn/index.php/page_2.html").post_process([post])


def scraped(stdout: str) -> tuple[str, str]:
    """(items part, requests part) of `scrapy parse` output."""
    items, _, requests = stdout.partition("# Requests")
    return items, requests


def test_scrapy_parse_routes_a_post_without_a_callback_and_runs_no_monitor(tmp_path: Path) -> None:
    proc = scrapy(tmp_path, "parse", "--spider=021cf", "http://suzhou.021cf.cn/index.php/post/532.html",
                  REPLAY_DIR=str(FIXTURES / "021cf"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    items, requests = scraped(proc.stdout)
    assert "'title': '2024年嘉昆太协同创新核心圈轮值会议在太仓举行'" in items
    assert "'published_at': '2024-09-20T00:00:00+08:00'" in items
    assert "'park_name': '太仓事达产业园'" in items
    assert "NotImplementedError" not in proc.stderr and "spider_exceptions" not in proc.stderr
    # No monitor ran: no Spidermon extension, no spidermon stats, no report written.
    assert "spidermon.contrib.scrapy.extensions.Spidermon" not in proc.stderr
    assert "'spidermon/" not in proc.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("spider, url, want", [
    ("xinjiapo", "https://xinjiapo.news/", ["https://xinjiapo.news/news/118815", "https://xinjiapo.news/category/china"]),
    ("jssuxun", "http://www.jssuxun.example/html/szxw/", ["http://www.jssuxun.example/html/szxw/list_3_2.html"]),
])
def test_scrapy_parse_routes_a_listing_to_its_links(tmp_path: Path, spider: str, url: str, want: list[str]) -> None:
    proc = scrapy(tmp_path, "parse", f"--spider={spider}", url, REPLAY_DIR=str(FIXTURES / spider))
    assert proc.returncode == 0, proc.stderr[-3000:]
    items, requests = scraped(proc.stdout)
    assert "'_id'" not in items
    for link in want:
        assert f"<GET {link}>" in requests


def test_scrapy_parse_renders_the_matchexpo_listing(tmp_path: Path) -> None:
    """The listing is filled by JavaScript: parse asks for the rendered page, whose links follow at depth 2."""
    proc = scrapy(tmp_path, "parse", "--spider=matchexpo", "--depth=2", "https://www.matchexpo.com/community",
                  REPLAY_DIR=str(FIXTURES / "matchexpo"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    depth2 = proc.stdout.split(">>> STATUS DEPTH LEVEL 2 <<<")[1]
    links = re.findall(r"<GET ([^>]+)>", depth2)
    assert links == ["https://www.matchexpo.com/community/article/3351", "https://www.matchexpo.com/community/article/3340",
                     "https://www.matchexpo.com/community/article/3315", "https://www.matchexpo.com/community?page=2"]


def test_scrapy_shell_runs_no_monitor(tmp_path: Path) -> None:
    code = "(crawler.settings.getbool('SPIDERMON_ENABLED'), crawler.settings.getbool('INCREMENTAL_ENABLED'), response.status)"
    proc = scrapy(tmp_path, "shell", "--nolog", "-c", code,
                  "http://kunshanmaigao.021cf.cn/index.php/post/2050.html", REPLAY_DIR=str(FIXTURES / "021cf"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "(False, False, 200)"


def test_crawl_still_runs_monitors(tmp_path: Path) -> None:
    """Only the page tools are exempt: `scrapy crawl` keeps its monitors and incremental mode."""
    code = "import sys; sys.argv = ['scrapy', 'crawl', '021cf']; import kspider.settings as s; " \
           "print(s.SPIDERMON_ENABLED, s.INCREMENTAL_ENABLED, s.KSPIDER_COMMAND)"
    env = {k: v for k, v in os.environ.items() if k not in ("SPIDERMON_ENABLED", "INCREMENTAL_ENABLED")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "True", "crawl"], out.stderr
    code = code.replace("'crawl', '021cf'", "'parse', '--spider=021cf', 'http://x/'")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False", "parse"], out.stderr
