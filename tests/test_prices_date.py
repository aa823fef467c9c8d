"""The price table says when its prices were checked, and `tunewise doctor` warns when that is over 90 days ago."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from tools.llm.pricing import STALE_AFTER_DAYS, PriceTable


def test_the_builtin_table_has_a_date_and_ages():
    t = PriceTable.load()
    assert isinstance(t.as_of, dt.date)
    status, detail = t.staleness(today=t.as_of + dt.timedelta(days=30))
    assert status == "ok" and "30 days old" in detail and str(t.as_of) in detail
    assert t.staleness(today=t.as_of + dt.timedelta(days=STALE_AFTER_DAYS))[0] == "ok"
    status, detail = t.staleness(today=t.as_of + dt.timedelta(days=STALE_AFTER_DAYS + 1))
    assert status == "warn" and f"{STALE_AFTER_DAYS + 1} days old" in detail
    assert "pricing pages" in detail and "as_of" in detail  # what to do about it


def test_an_override_date_speaks_for_the_table_and_a_bad_one_is_one_line(tmp_path, monkeypatch):
    f = tmp_path / "prices.yaml"
    f.write_text("as_of: 2020-01-15\nmodels: {openai: {gpt-5: {input: 1, output: 2}}}\n")
    monkeypatch.setenv("TUNEWISE_PRICES", str(f))
    t = PriceTable.load()
    assert t.as_of == dt.date(2020, 1, 15) and t.price("openai", "gpt-5").input == 1.0
    f.write_text("as_of: last spring\nmodels: {}\n")
    from tools.errors import ConfigError

    with pytest.raises(ConfigError, match="as_of must be a date") as e:
        PriceTable.load()
    assert "YYYY-MM-DD" in e.value.one_line()
    # a table without a date cannot say how old it is: that is a warning too
    assert PriceTable({"models": {}}).staleness()[0] == "warn"


def test_doctor_warns_with_a_fake_today():
    from tui.cli.doctor import price_row

    as_of = PriceTable.load().as_of
    assert price_row(today=as_of + dt.timedelta(days=10))[1] == "ok"
    name, status, detail = price_row(today=as_of + dt.timedelta(days=120))
    assert (name, status) == ("prices", "warn") and "120 days old" in detail


def test_doctor_cli_shows_an_old_table(tmp_path):
    f = tmp_path / "prices.yaml"
    f.write_text("as_of: 2020-01-15\nmodels: {}\n")
    env = {**os.environ, "TUNEWISE_PRICES": str(f)}
    res = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "doctor", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    checks = {c["check"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["prices"]["status"] == "warn" and "2020-01-15" in checks["prices"]["detail"]
