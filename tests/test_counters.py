"""kspider.extract.counters.parse_count on counters as the sites print them."""
import pytest

from kspider.extract.counters import parse_count


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3,311", 3311),  # matchexpo views
        ("70", 70),
        ("1.2万", 12000),
        ("3.5k", 3500),
        ("3.5K", 3500),
        ("1.2w", 12000),
        ("10万+", 100000),
        ("1.5亿", 150000000),
        ("瀏覽量:0", 0),  # jssuxun meta line
        ("阅读 38", 38),
        ("38次阅读", 38),
        ("２３", 23),
        ("3 min read", 3),
        ("暂无", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_count(text, expected):
    assert parse_count(text) == expected
