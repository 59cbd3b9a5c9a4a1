"""The CLI's habits, in this process (no sandbox needed): every mistake is one line naming the
problem, --debug shows the traceback, help shows formats and defaults, and `spec check`
runs the spec's SQL on a file and says what to declare instead."""

from pathlib import Path

import pytest
import yaml

from modelops_dev.cli import main
from modelops_dev.cli.serve import request_path
from tests.helpers import HYMOD_DATA, HYMOD_LOAD, HYMOD_SPEC, write_lines

UNREACHABLE = ("--endpoint-url", "http://127.0.0.1:9")  # commands here must not need the sandbox


def error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI, expect exit 2 and exactly one line on stderr (no traceback)."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def hymod_spec(tmp_path: Path, **changes: object) -> Path:
    document = yaml.safe_load(HYMOD_SPEC.read_text())
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key] = {**document[key], **value}
        else:
            document[key] = value
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_data_load_errors_are_one_line(capsys, tmp_path):
    load = ("data", "load", "--table", "t", "--dry-run", *UNREACHABLE)
    assert error_line(capsys, *load, "--file", str(HYMOD_DATA)) == (
        "error: no column of dates (YYYY-MM-DD) found: name the column that dates each row with "
        "--date-column (columns: Date, rainfall[mm], TURC [mm d-1], Discharge[ls-1])"
    )
    years = write_lines(tmp_path / "y.csv", "year,x", "1991,1", "1992,2")
    assert error_line(capsys, *load, "--file", str(years), "--period-column", "year") == (
        "error: date column 'year' does not hold YYYY-MM-DD dates (line 2 holds '1991'): "
        "--date-format %Y reads every value"
    )
    stray = write_lines(
        tmp_path / "n.csv", "day,dew point", "2020-01-01,1.5", "2020-01-02,n/a", "2020-01-03,3"
    )
    assert error_line(capsys, *load, "--file", str(stray)).startswith(
        "error: column 'dew point': 2 of 3 values are numbers, but line 3 holds 'n/a': pass --na-values 'n/a'"
    )
    assert main([*load, "--file", str(stray), "--na-values", "n/a,-"]) == 0
    assert "'dew point'  DOUBLE     1 missing" in capsys.readouterr().out
    ragged = write_lines(tmp_path / "r.csv", "day,month", "2020-01-01,1", "2020-02-01,2,3")
    assert error_line(capsys, *load, "--file", str(ragged)) == (
        "error: r.csv: 1 row does not have the header's 2 fields: line 3 has 3"
    )
    assert error_line(capsys, *load, "--file", str(tmp_path / "none.csv")).endswith("none.csv: no such file")
    assert error_line(capsys, *load, "--file", str(stray), "--types", "dew point") == (
        "error: --types 'dew point': write COLUMN=TYPE, e.g. --types 'postal code=text'"
    )
    assert error_line(capsys, "data", "load", "--file", str(stray), *UNREACHABLE) == (
        "error: --file needs --table (the lake table the spec's SQL reads)"
    )


def test_a_dry_run_summarizes_a_daily_file_by_month(capsys):
    assert (
        main(["data", "load", "--file", str(HYMOD_DATA), "--table", "hymod", *HYMOD_LOAD, "--dry-run"]) == 0
    )
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("hymod_input.csv: 1,827 rows, 4 columns")
    assert "would load into table 'hymod': 60 month partitions (2012-01-01 … 2016-12-01)" in out


def test_spec_mistakes_are_one_line_naming_the_field_and_the_fix(capsys, tmp_path):
    missing = tmp_path / "absent.yaml"
    assert error_line(capsys, "spec", "check", str(missing)) == f"error: {missing}: no such file"
    typo = hymod_spec(tmp_path)
    typo.write_text(typo.read_text().replace("estimator:", "estimater:"))
    assert error_line(capsys, "spec", "check", str(typo)) == (
        f"error: {typo}: estimater: unknown field; did you mean 'estimator'?"
    )
    spaced = hymod_spec(tmp_path, features={"dew point": {"type": "numeric"}})
    assert error_line(capsys, "spec", "check", str(spaced)) == (
        f"error: {spaced}: features: 'dew point' is not an identifier (letters, digits, _): name the feature "
        'dew_point and read the column with `dew_point: {column: "dew point", type: numeric}`'
    )


def check(capsys, spec: Path, *extra: str) -> tuple[int, str]:
    code = main(["spec", "check", str(spec), "--data", str(HYMOD_DATA), *HYMOD_LOAD, *extra])
    return code, capsys.readouterr().out


def test_spec_check_runs_the_sql_on_a_file_and_says_what_to_declare(capsys, tmp_path):
    code, out = check(capsys, HYMOD_SPEC)
    assert code == 0 and "checked against 1,827 rows of the query over" in out and "ok:" in out
    as_number = hymod_spec(tmp_path, features={"month": {"type": "numeric"}})
    code, out = check(capsys, as_number)
    assert (
        code == 1
        and (f"error: {as_number}: features.month: declared numeric, but the column holds text ('") in out
        and out.rstrip().endswith("declare it categorical")
    )
    as_codes = hymod_spec(
        tmp_path, features={"evapotranspiration": {"column": "TURC [mm d-1]", "type": "categorical"}}
    )
    code, out = check(capsys, as_codes)
    assert (
        code == 1
        and "features.evapotranspiration: declared categorical, but column 'TURC [mm d-1]' has" in out
    )
    assert "(at most 255): declare it numeric" in out
    renamed = hymod_spec(tmp_path, features={"rainfall": {"column": "rainfall [mm]", "type": "numeric"}})
    code, out = check(capsys, renamed)
    assert (
        code == 1
        and (
            "features.rainfall: no column 'rainfall [mm]' in the query result; the column 'rainfall[mm]' "
            "looks like it: read it with `column: 'rainfall[mm]'`"
        )
        in out
    )
    assert error_line(capsys, "spec", "check", str(HYMOD_SPEC), "--data", str(HYMOD_DATA)).startswith(
        "error: no column of dates (YYYY-MM-DD) found"
    )
    bad_sql = hymod_spec(
        tmp_path,
        source={"tables": ["hymod"], "sql": 'SELECT nope FROM hymod WHERE "Date" BETWEEN $start AND $end'},
    )
    assert error_line(
        capsys, "spec", "check", str(bad_sql), "--data", str(HYMOD_DATA), *HYMOD_LOAD
    ).startswith('error: Binder Error: Referenced column "nope" not found')


def test_arguments_are_checked_on_one_line_and_help_shows_formats_and_defaults(capsys):
    assert error_line(capsys, "train", "--model", "m", "--as-of", "2025-13-01") == (
        "error: argument --as-of: '2025-13-01' is not a date (YYYY-MM-DD) (see `modelops train --help`)"
    )
    assert error_line(capsys, "score", "--model", "m").startswith(
        "error: the following arguments are required: --as-of"
    )
    assert main(["train", "--help"]) == 0
    train_help = " ".join(capsys.readouterr().out.split())
    assert "YYYY-MM-DD" in train_help and "default: the only model with a stored spec" in train_help
    assert main(["data", "load", "--help"]) == 0
    load_help = " ".join(capsys.readouterr().out.split())
    assert "(default: month)" in load_help and "%d.%m.%Y" in load_help and "--dry-run" in load_help
    helps = []
    for action in ("check", "put"):
        assert main(["spec", action, "--help"]) == 0
        helps.append(capsys.readouterr().out)
    assert "--data" in helps[0] and "--data" not in helps[1] and helps[0] != helps[1]


def test_bad_arguments_are_one_line_before_the_sandbox_is_asked(capsys, tmp_path):
    assert error_line(capsys, "score", "--model", "churn", "--as-of", "9999-12-31", *UNREACHABLE) == (
        "error: argument --as-of: the date 9999-12-31 is outside 1000-01-01 … 9000-12-31, the days a run "
        "may cover (its window, lookback and lookahead must fit the calendar) (see `modelops score --help`)"
    )
    assert error_line(capsys, "dispatch", "--at", "9999-12-31T23:00:00Z", *UNREACHABLE).startswith(
        "error: argument --at: the date 9999-12-31 is outside"
    )
    for n in ("0", "-1", "x"):
        assert error_line(capsys, "top", "-n", n, *UNREACHABLE) == (
            f"error: argument -n: '{n}' is not a whole number of at least 1 (see `modelops top --help`)"
        )
    out = tmp_path / "nowhere.html"
    assert error_line(capsys, "report", "--model", "../../etc", "--out", str(out), *UNREACHABLE) == (
        "error: '../../etc' is not a model name (lowercase letters, digits, '-' or '_', starting with a "
        "letter, at most 63 characters)"
    )
    assert not out.exists()


def test_debug_shows_the_traceback(capsys, tmp_path):
    assert main(["spec", "check", str(tmp_path / "absent.yaml"), "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.rstrip().endswith("absent.yaml: no such file")


def test_invoke_encodes_the_path_and_names_an_unreachable_api(capsys):
    assert request_path("/models/m/scores/1991-03-04 00:00:00") == "/models/m/scores/1991-03-04%2000:00:00"
    assert request_path("/models/m/scores/a%20b") == "/models/m/scores/a%20b"  # already encoded
    assert request_path("/models/m/scores/a|b?version=1.0.0") == "/models/m/scores/a%7Cb?version=1.0.0"
    line = error_line(capsys, "invoke", "--url", "http://127.0.0.1:9", "--model", "m", "--entity", "a b")
    assert line.startswith("error: cannot reach the online API at http://127.0.0.1:9")
    assert error_line(capsys, "invoke", "--entity", "a b") == (
        "error: --entity needs --model (the online API serves every model)"
    )
