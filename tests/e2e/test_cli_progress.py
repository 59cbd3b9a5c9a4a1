"""`modelops score` follows its Distributed Map on a terminal (issue 24): one line of stderr
redrawn with the chunks done, left with all of them done; nothing redrawn off a terminal or
with --json. The command runs in this process against the embedded sandbox."""

import re

import pytest

from modelops_dev.cli import main, runs
from tests.dev.test_load_progress import Terminal
from tests.helpers import SCORING_AS_OF, put_churn_spec

pytestmark = pytest.mark.e2e
SCORE = ["score", "--model", "churn", "--as-of", SCORING_AS_OF]


@pytest.fixture
def two_chunks(trained, monkeypatch):
    """The trained sandbox with September's 1,000 rows in chunks of 500; the CLI uses it
    instead of connecting to a served one."""
    put_churn_spec(scoring={"chunk_rows": 500})
    monkeypatch.setattr(runs, "connect", lambda endpoint: trained.sandbox)
    return trained.sandbox


def test_a_terminal_sees_the_maps_chunks_redrawn_until_all_are_done(two_chunks, monkeypatch, capsys):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(SCORE) == 0
    shown = terminal.getvalue()
    redrawn = shown.split("\r\033[K")
    assert redrawn[0] == "" and len(redrawn) >= 2, shown
    assert re.fullmatch(r"    chunks 2/2  [\d,]+ rows/s\n", redrawn[-1]), shown  # exact: all done
    assert all(re.fullmatch(r"    chunks [0-2]/2.*", r) for r in redrawn[1:-1]), shown
    out = capsys.readouterr().out
    assert "  ✓ ScoreChunks" in out and "\r" not in out and "\033" not in out


def test_off_a_terminal_or_with_json_nothing_is_redrawn(two_chunks, monkeypatch, capsys):
    assert main(SCORE) == 0  # stdout and stderr captured: no terminal
    captured = capsys.readouterr()
    assert "  … ScoreChunks" in captured.out and "  ✓ ScoreChunks" in captured.out  # the log's lines
    assert "chunks" not in captured.out + captured.err
    assert not re.search(r"[\r\033]", captured.out + captured.err)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main([*SCORE, "--json", "--force"]) == 0
    assert terminal.getvalue() == "" and '"status": "SUCCEEDED"' in capsys.readouterr().out
