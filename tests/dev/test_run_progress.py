"""A run's Map on a terminal (issue 24): chunks done of all, the failed ones, rows/s (an
estimate until every chunk is done) or chunks/s when the rows are unknown; off with --json
or off a terminal."""

import io

from modelops_dev.cli import progress
from modelops_dev.client.runner import MapProgress, _item_rows
from tests.dev.test_load_progress import Terminal


def test_the_map_line_shows_chunks_failures_and_throughput():
    # 1 of 4 chunks of 10,000 rows in 2 s: ~2,500 rows done, 1,250 rows/s.
    assert progress.map_line(1, 0, 4, 10_000, 2.0) == "chunks 1/4  ~1,250 rows/s"
    assert progress.map_line(4, 0, 4, 10_000, 2.0) == "chunks 4/4  5,000 rows/s"
    assert progress.map_line(2, 1, 4, None, 4.0) == "chunks 2/4, 1 failed  0.5 chunks/s"
    assert progress.map_line(0, 0, 2, 2000, 1.0) == "chunks 0/2"  # no rate before a chunk is done
    assert progress.map_line(0, 0, 0, None, 0.0) == "chunks 0/0"


def test_the_rows_come_from_get_datas_count_of_the_maps_items():
    assert _item_rows('{"results": {"get_data": {"rows": 2000, "chunks": 2, "columns": 9}}}') == (2000, 2)
    assert _item_rows('{"results": {}}') is None and _item_rows(None) is None and _item_rows("{tr") is None


def test_the_map_line_is_redrawn_then_left_with_the_last_counts():
    terminal = Terminal()
    line = progress.map_line_for(json=False, stream=terminal)
    assert line is not None
    line(MapProgress("ScoreChunks", 1, 0, 2, 1.0, 2000))
    line(MapProgress("ScoreChunks", 2, 0, 2, 2.0, 2000, finished=True))
    assert terminal.getvalue() == (
        "\r\033[K    chunks 1/2  ~1,000 rows/s\r\033[K    chunks 2/2  1,000 rows/s\n"
    )


def test_the_map_line_is_off_with_json_or_off_a_terminal():
    assert progress.map_line_for(json=False, stream=io.StringIO()) is None
    assert progress.map_line_for(json=True, stream=Terminal()) is None


def test_a_map_run_that_cannot_be_described_stops_the_line_not_the_run():
    from botocore.exceptions import ClientError

    from modelops_dev.client.runner import _MapRun, _Progress

    class Throttled:
        calls = 0

        def describe_map_run(self, mapRunArn: str) -> dict:
            self.calls += 1
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "DescribeMapRun"
            )

    heard: list[MapProgress] = []
    watching = _Progress(None, heard.append)
    watching.map_run = _MapRun("arn:aws:states:us-east-1:1:mapRun:x", "ScoreChunks", (100, 2))
    client = Throttled()
    watching.poll_map(client)
    watching.poll_map(client, last=True)
    assert heard == [] and watching.map_run is None and client.calls == 1
