"""The run summary's lines (what the CLI and the demo print after a run)."""

from modelops_dev.client.summary import run_lines


def test_the_rows_a_duplicates_policy_dropped_are_a_line_of_the_summary():
    results = {
        "get_data": {
            "duplicates": {
                "policy": "last",
                "rows": 2004,
                "entities": 12,
                "example": "sensor 's0' appears 168 times in the period starting 2025-09-01",
            }
        }
    }
    assert run_lines(results) == [
        "duplicates: kept the last row of each entity and period, dropped 2,004 rows of 12 "
        "entity-periods (sensor 's0' appears 168 times in the period starting 2025-09-01)"
    ]
    assert run_lines({"get_data": {}}) == []
