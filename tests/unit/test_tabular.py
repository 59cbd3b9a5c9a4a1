"""DuckDB connections: a database of its own for work that names tables, a connection to the
process's shared one for reads and writes of files."""

import numpy as np

from modelops.stores import tabular


def test_cursors_share_one_configured_database_and_a_forked_process_opens_its_own(tmp_path, monkeypatch):
    with tabular.cursor() as one, tabular.cursor() as other:
        one.execute("CREATE TABLE seen_by_both AS SELECT 1 AS x")
        try:
            assert other.execute("SELECT x FROM seen_by_both").fetchone() == (1,)
        finally:
            one.execute("DROP TABLE seen_by_both")
        assert other.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
    with tabular.connect() as own:  # its own database: the shared one's tables are not there
        assert own.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)
    first = tabular._shared
    monkeypatch.setattr(tabular.os, "getpid", lambda: -1)  # as in a forked child
    with tabular.cursor():
        assert tabular._shared is not first


def test_columns_written_and_read_through_the_shared_database(tmp_path):
    path = tabular.write_columns(
        tmp_path / "c.parquet", {"day": np.array(["2025-01-02"], dtype="datetime64[D]"), "x": np.array([1.5])}
    )
    columns = tabular.read_columns(path)
    assert columns["day"].dtype == np.dtype("datetime64[D]") and list(columns["x"]) == [1.5]
    assert tabular.parquet_rows(path) == 1
