"""kspider.extract.dates: one parser, every form seen on the sites."""
from datetime import datetime, timezone

import pytest

from kspider.extract.dates import ParsedDate, http_date, parse_date

REF = datetime(2026, 2, 19, 8, 0, 0, tzinfo=timezone.utc)  # "Thu, 19 Feb 2026 08:00:00 GMT" = 16:00 in Shanghai


@pytest.mark.parametrize(
    "text, iso, precision, raw",
    [
        # absolute
        ("2021-05-28 10:14 來源: 編輯:中國江蘇網 瀏覽量:0", "2021-05-28T10:14:00+08:00", "minute", "2021-05-28 10:14"),
        ("2025年7月15日", "2025-07-15T00:00:00+08:00", "day", "2025年7月15日"),
        ("2025-07-15", "2025-07-15T00:00:00+08:00", "day", "2025-07-15"),
        ("2025/7/15 08:30:12", "2025-07-15T08:30:12+08:00", "second", "2025/7/15 08:30:12"),
        ("2021年11月9日下午", "2021-11-09T00:00:00+08:00", "day", "2021年11月9日"),
        ("2025年7月", "2025-07-01T00:00:00+08:00", "month", "2025年7月"),
        ("2025-07-15T08:30:12+00:00", "2025-07-15T16:30:12+08:00", "second", "2025-07-15T08:30:12+00:00"),
        ("发布时间：２０２５－０７－１５", "2025-07-15T00:00:00+08:00", "day", "２０２５－０７－１５"),
        # tpure relative with the day in brackets (seed 000 meta line)
        ("admin7个月前 (07-15)昆山产业新闻38", "2025-07-15T00:00:00+08:00", "day", "7个月前 (07-15)"),
        ("2周前 (02-05)", "2026-02-05T00:00:00+08:00", "day", "2周前 (02-05)"),
        ("3年前 (2023-02-01)", "2023-02-01T00:00:00+08:00", "day", "3年前 (2023-02-01)"),
        # Chinese relative, approximate
        ("3天前", "2026-02-16T16:00:00+08:00", "approx", "3天前"),
        ("刚刚", "2026-02-19T16:00:00+08:00", "approx", "刚刚"),
        ("45秒前", "2026-02-19T15:59:15+08:00", "approx", "45秒前"),
        ("5分钟前", "2026-02-19T15:55:00+08:00", "approx", "5分钟前"),
        ("2小时前", "2026-02-19T14:00:00+08:00", "approx", "2小时前"),
        ("1周前", "2026-02-12T16:00:00+08:00", "approx", "1周前"),
        ("7个月前", "2025-07-19T16:00:00+08:00", "approx", "7个月前"),
        ("2年前", "2024-02-19T16:00:00+08:00", "approx", "2年前"),
        ("三天前", "2026-02-16T16:00:00+08:00", "approx", "三天前"),
        ("半小时前", "2026-02-19T15:30:00+08:00", "approx", "半小时前"),
        ("昨天", "2026-02-18T00:00:00+08:00", "day", "昨天"),
        ("前天 12:30", "2026-02-17T12:30:00+08:00", "minute", "前天 12:30"),
        # English relative (matchexpo)
        ("2 hours ago", "2026-02-19T14:00:00+08:00", "approx", "2 hours ago"),
        ("Yesterday", "2026-02-18T00:00:00+08:00", "day", "Yesterday"),
        ("Last year", "2025-02-19T16:00:00+08:00", "approx", "Last year"),
        ("2 Last year", "2025-02-19T16:00:00+08:00", "approx", "Last year"),
        # month-day without year
        ("7月15日", "2025-07-15T00:00:00+08:00", "day", "7月15日"),
        ("2月20日", "2025-02-20T00:00:00+08:00", "day", "2月20日"),  # tomorrow's date is last year's
        # English absolute
        ("15 July 2025", "2025-07-15T00:00:00+08:00", "day", "15 July 2025"),
        # … read without dateparser, inside a Chinese meta line too
        ("AI新闻资讯 · 1 分钟阅读 · Apr 22, 2025", "2025-04-22T00:00:00+08:00", "day", "Apr 22, 2025"),
        ("Posted on September 3rd, 2024 at 10:05 pm", "2024-09-03T22:05:00+08:00", "minute",
         "September 3rd, 2024 at 10:05 pm"),
        ("Sept. 3, 2024", "2024-09-03T00:00:00+08:00", "day", "Sept. 3, 2024"),
        ("3 Sep 2024 14:05:33", "2024-09-03T14:05:33+08:00", "second", "3 Sep 2024 14:05:33"),
        ("Dec 12, 2024 12:30 AM", "2024-12-12T00:30:00+08:00", "minute", "Dec 12, 2024 12:30 AM"),
        # nothing
        ("昆山产业新闻", None, None, "昆山产业新闻"),
        ("2025-13-45", None, None, "2025-13-45"),
        ("", None, None, ""),
    ],
)
def test_parse_date(text, iso, precision, raw):
    assert parse_date(text, REF) == ParsedDate(iso, precision, raw)


def test_month_day_weekday_picks_the_year_of_the_weekday():
    ref = datetime(2025, 1, 10, tzinfo=timezone.utc)
    assert parse_date("12月29日 星期日", ref) == ParsedDate("2024-12-29T00:00:00+08:00", "day", "12月29日 星期日")
    # seed 004 (xinjiapo): 17 November was a Sunday in 2024, not in 2025
    assert parse_date("• 11月17日 星期日", REF, "Asia/Singapore") == ParsedDate(
        "2024-11-17T00:00:00+08:00", "day", "11月17日 星期日")


def test_reference_day_is_taken_in_the_site_zone():
    # 16:30 UTC on 14 July is already 15 July in Shanghai
    ref = datetime(2025, 7, 14, 16, 30, tzinfo=timezone.utc)
    assert parse_date("7个月前 (07-15)", ref).iso == "2025-07-15T00:00:00+08:00"
    assert parse_date("7个月前 (07-15)", ref, "Europe/London").iso == "2024-07-15T00:00:00+01:00"


def test_naive_reference_is_utc():
    assert parse_date("3天前", datetime(2026, 2, 19, 8, 0)).iso == "2026-02-16T16:00:00+08:00"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Thu, 19 Feb 2026 08:00:00 GMT", datetime(2026, 2, 19, 8, 0, tzinfo=timezone.utc)),
        (b"Thu, 19 Feb 2026 08:00:00 GMT", datetime(2026, 2, 19, 8, 0, tzinfo=timezone.utc)),
        ("Thursday, 19-Feb-26 08:00:00 GMT", datetime(2026, 2, 19, 8, 0, tzinfo=timezone.utc)),
        ("Thu, 19 Feb 2026 16:00:00 +0800", datetime(2026, 2, 19, 8, 0, tzinfo=timezone.utc)),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_http_date(value, expected):
    result = http_date(value)
    assert result == expected
    if result is not None:
        assert result.utcoffset().total_seconds() == 0
