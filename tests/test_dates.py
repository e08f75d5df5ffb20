"""indexer/dates.py: the date forms Chinese readers type, and ranges typed backwards."""

from __future__ import annotations

import pytest

from indexer.dates import DateFormatError, DateValueError, order_range, parse_date


@pytest.mark.parametrize("typed", ["2018-01-01", "2018/01/01", "2018.1.1", "2018年1月1日", "2018年1月1",
                                   "2018-1-1", "2018/1/1", "20180101", " 2018 - 01 - 01 ",
                                   "２０１８－０１－０１", "２０１８年１月１日"])
def test_accepted_forms_mean_one_iso_date(typed):
    assert parse_date(typed) == "2018-01-01"


def test_other_days_keep_their_numbers():
    assert parse_date("2022.12.31") == "2022-12-31"
    assert parse_date("2024年2月29日") == "2024-02-29"


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_empty_is_none(typed):
    assert parse_date(typed) is None


@pytest.mark.parametrize("typed", ["01/02/2018", "2018-01", "2018", "yesterday", "2018-01-01x", "2018-01/01", "18-1-1"])
def test_unknown_forms_are_refused(typed):
    with pytest.raises(DateFormatError):
        parse_date(typed)


@pytest.mark.parametrize("typed", ["2020-02-30", "2021年2月29日", "2020.13.1", "2020-00-10"])
def test_impossible_days_are_refused(typed):
    with pytest.raises(DateValueError):
        parse_date(typed)


def test_order_range_swaps_only_a_backwards_range():
    assert order_range("2020-05-01", "2019-01-01") == ("2019-01-01", "2020-05-01", True)
    assert order_range("2019-01-01", "2020-05-01") == ("2019-01-01", "2020-05-01", False)
    assert order_range("2019-01-01", None) == ("2019-01-01", None, False)
    assert order_range(None, "2019-01-01") == (None, "2019-01-01", False)
