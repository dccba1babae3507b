"""The command line: python -m kspider.extract clean|date|phones|ad TEXT."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, stdin=None):
    proc = subprocess.run([sys.executable, "-m", "kspider.extract", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)
    return proc


def test_clean_with_site_rules():
    proc = run_cli("clean", "關(guān)注民生\n长三角一体化发展始终是我们必须抓牢的蕞大机遇\n扫一扫关注公众号", "--site", "suzhou.021cf.cn")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "text": "關注民生\n长三角一体化发展始终是我们必须抓牢的最大机遇",
        "flags": ["pinyin_stripped", "adlaw_restored"],
        "lang": "zh-Hans",
        "text_hans": None,
    }


def test_clean_traditional_from_stdin():
    proc = run_cli("clean", "-", "--site", "www.jssuxun.example", stdin="又有92個項目落戶蘇州高新區(qū)\n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "text": "又有92個項目落戶蘇州高新區",
        "flags": ["pinyin_stripped"],
        "lang": "zh-Hant",
        "text_hans": "又有92个项目落户苏州高新区",
    }


def test_date_against_http_date_reference():
    proc = run_cli("date", "admin7个月前 (07-15)昆山产业新闻38", "--ref", "Thu, 19 Feb 2026 08:00:00 GMT")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"iso": "2025-07-15T00:00:00+08:00", "precision": "day", "raw": "7个月前 (07-15)"}


def test_date_in_the_site_zone():
    proc = run_cli("date", "• 11月17日 星期日", "--ref", "Thu, 19 Feb 2026 08:00:00 GMT", "--site", "xinjiapo.news")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["iso"] == "2024-11-17T00:00:00+08:00"


def test_bad_reference_is_a_usage_error():
    proc = run_cli("date", "3天前", "--ref", "yesterday-ish")
    assert proc.returncode == 2
    assert "--ref is not an HTTP date" in proc.stderr


def test_phones_subcommand_calls_the_phone_extractor():
    pytest.importorskip("kspider.extract.phones")
    proc = run_cli("phones", "或微信/手机:135246785151356468684613391219793")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["+8613524678515", "+8613564686846", "+8613391219793"]
