"""A clean CSV file is typed in one pass of DuckDB's reader (stores/fastload.py); anything the
pass is not sure of goes to the full check. Both must give the same answer: for each file and
set of options, the summary, the date column, every typed row and every column type, or the
same one-line refusal. A difference is the one pass deciding something the checks do not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelops.stores import fastload, loader, tabular
from modelops.stores.csvtext import LoadError
from modelops.stores.loader import LoadOptions


def _days(rows: int, last: str) -> str:
    """More rows than DuckDB's sniffer samples (20,480), the odd one last."""
    return "day,a\n" + "".join(f"2020-01-{i % 28 + 1:02d},{i}\n" for i in range(rows)) + last


FILES = {
    "plain": "day,a,b,c\n2020-01-01,1,1.5,x\n2020-01-02,2,2.5,y\n",
    "spaces": "day,a,b,c\n 2020-01-01 , 1 , 1.5 , x \n2020-01-02,2,2.5,y\n",
    "padded codes": "day,a\n2020-01-01,007\n2020-01-02,8\n",
    "booleans": "day,a,b\n2020-01-01,TRUE,t\n2020-01-02,false ,f\n",
    "zoned": "day,ts\n2020-01-01,2020-01-01T10:00:00+02:00\n2020-01-02,2020-01-02T10:00:00Z\n",
    "whole floats": "day,a\n2020-01-01,5.0\n2020-01-02,6\n",
    "mostly numbers": "day,a\n2020-01-01,5\n2020-01-02,6\n2020-01-03,x\n",
    "nan and inf": "day,a,b\n2020-01-01,NaN,inf\n2020-01-02,6.5,1\n",
    "missing date": "day,a\n2020-01-01,1\n,2\n",
    "dotted dates": "day,a\n01.02.2020,1\n02.02.2020,2\n",
    "impossible date": "day,a\n2020-02-30,1\n2020-01-02,2\n",
    "exponents and signs": "day,a,b\n2020-01-01,1e5,+5\n2020-01-02,2E-3,-0\n",
    "quoted": 'day,a\n2020-01-01,"1,5"\n2020-01-02,"x ""y"""\n',
    "ragged": "day,a\n2020-01-01,1,3\n2020-01-02,2\n",
    "too big for BIGINT": "day,a\n2020-01-01,99999999999999999999\n2020-01-02,1\n",
    "too big among fractions": "day,a\n2020-01-01,1.5\n2020-01-02,2.25\n2020-01-03,99999999999999999999\n",
    "text past the sample": _days(21_000, "2020-01-01,oops\n"),
    "a fraction past the sample": _days(21_000, "2020-01-01,1.5\n"),
}
OPTIONS = {
    "defaults": LoadOptions(),
    "no default missing markers": LoadOptions(default_na=False),
    "local time": LoadOptions(local_time=True),
    "date format": LoadOptions(date_column="day", date_format="%d.%m.%Y"),
    "types": LoadOptions(date_column="day", types={"a": "text"}),
    "missing markers": LoadOptions(na_values=("x", "oops")),
}


def _load(path: Path, options: LoadOptions) -> Any:
    with tabular.connect() as connection:
        try:
            summary, date, source = loader.typed(connection, path, options, ["load"], scratch=path.parent)
        except LoadError as error:
            return "refused", str(error)
        row = tabular.quote(source.row)
        rows = connection.execute(
            f"SELECT * EXCLUDE ({row}), {row} FROM typed ORDER BY {row}"  # nosec B608  # quoted name
        ).fetchall()
        types = connection.execute("SELECT column_name, column_type FROM (DESCRIBE typed)").fetchall()
        return summary, date, rows, types


# The files the one pass types with the default options (the others need the full check): a
# one pass that silently stopped working would still agree with the full check everywhere.
ONE_PASS = {
    "plain", "spaces", "padded codes", "booleans", "whole floats", "exponents and signs", "quoted",
    "too big for BIGINT",
}  # fmt: skip
LONG = ("text past the sample", "a fraction past the sample")  # with the defaults only: 21,000 rows
CASES = [(name, key) for name in FILES for key in OPTIONS if name not in LONG or key == "defaults"]


@pytest.mark.parametrize(("name", "key"), CASES)
def test_the_one_pass_and_the_full_check_agree(name, key, tmp_path, monkeypatch):
    options = OPTIONS[key]
    path = tmp_path / "file.csv"
    path.write_text(FILES[name])
    taken = []
    one_pass = fastload.typed

    def watched(*args: Any, **kwargs: Any) -> Any:
        found = one_pass(*args, **kwargs)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(fastload, "typed", watched)
    fast = _load(path, options)
    monkeypatch.setattr(fastload, "typed", lambda *args, **kwargs: None)
    assert fast == _load(path, options)
    if key == "defaults":  # clean files are typed by the one pass, the rest by the full check
        assert taken == [name in ONE_PASS]
    if (name, key) == ("too big for BIGINT", "defaults"):  # an id past 64 bits: text, not a crash
        assert ("a", "VARCHAR") in fast[3]
