"""The drift report as a browser sees it: headless Chromium loads the file, its DOM holds the
charts and the flagged markers, and a screenshot shows them (decoded here with zlib + numpy)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from modelops.domain.monitoring import report
from modelops.domain.monitoring.reference import Observation

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FLAG_RED = np.array([214, 39, 40])  # charts.FLAG
SUMMARY_TINT = np.array([0xFD, 0xF1, 0xF1])  # the summary of an alert to act on
MONTHS = [date(2024 + (6 + i) // 12, (6 + i) % 12 + 1, 1) for i in range(12)]  # 2024-07 .. 2025-06


def chromium() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


def run_chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def numeric(rng: np.random.Generator, centre: float, spread: float, drift: float = 0.0) -> list[Observation]:
    periods = []
    for i, month in enumerate(MONTHS):
        shift = drift if i == len(MONTHS) - 1 else 0.0
        quantiles = centre + shift + spread * np.linspace(-1.3, 1.3, 10) + rng.normal(0, spread * 0.04, 10)
        values = {"count": 1000.0, "missing": 0.01, "mean": float(quantiles.mean())}
        values |= {f"d{k + 1}": float(q) for k, q in enumerate(np.sort(quantiles))}
        periods.append(Observation(month, values))
    return periods


def flag(history: list[Observation], index: int, *keys: str) -> None:
    history[index] = Observation(history[index].timestamp, history[index].values, flags=keys)


def fixture() -> dict[str, dict[str, list[Observation]]]:
    rng = np.random.default_rng(7)
    usage = numeric(rng, 12.0, 4.0, drift=5.0)
    flag(usage, 11, "band:data_usage_gb:d5", "band:data_usage_gb:d9")
    charges = numeric(rng, 65.0, 20.0)
    flag(charges, 10, "trend:monthly_charges:mean")  # the mean is not drawn: marked on the axis
    plan = []
    for i, month in enumerate(MONTHS):
        premium = 0.3 + (0.15 if i == 11 else 0.0) + rng.normal(0, 0.01)
        shares = {"share:basic": 0.55 - premium, "share:premium": premium, "share:<b>family</b>": 0.45}
        plan.append(Observation(month, {"count": 1000.0, **shares}))
    flag(plan, 11, "chi2:plan:categories", "band:plan:share:premium")
    stores = [
        Observation(m, {"count": 1000.0, **{f"share:s{k:02d}": 1 / 20 for k in range(20)}}) for m in MONTHS
    ]
    south = numeric(rng, 14.0, 4.0, drift=2.5)
    flag(south, 11, "band:data_usage_gb[region=south]:d5")
    scores = numeric(rng, 0.3, 0.12, drift=0.1)
    flag(scores, 11, "ks:score:distribution")
    outcome = [Observation(m, {"count": 800.0, "mean": 0.26 + rng.normal(0, 0.01)}) for m in MONTHS]
    single = [Observation(MONTHS[-1], {"count": 10.0, **{f"d{k}": float(k) for k in range(1, 11)}})]
    band = {"value": (0.81, 0.78, 0.84)}
    realized = [
        Observation(
            m, {"value": 0.81 + rng.normal(0, 0.01) - (0.06 if i == 10 else 0.0), "se": 0.01}, bands=band
        )
        for i, m in enumerate(MONTHS[:11])
    ]
    flag(realized, 10, "realized:batch:roc_auc:value")
    estimated = [
        Observation(m, {"value": 0.80 + rng.normal(0, 0.005), "se": 0.003, "realized_se": 0.012}, bands=band)
        for m in MONTHS
    ]
    return {
        "validate_data": {
            "data_usage_gb": usage,
            "monthly_charges": charges,
            "plan": plan,
            "store": stores,
            "data_usage_gb[region=south]": south,
        },
        "validate_model": {"score": numeric(rng, 0.3, 0.12), "new_feature": single},
        "validate_outcomes": {
            "batch:roc_auc": realized,
            "batch:estimated_roc_auc": estimated,
            "batch:roc_auc[region=south]": [Observation(o.timestamp, o.values) for o in realized[-3:]],
            "batch:estimated_roc_auc[region=south]": estimated[-3:],
        },
        "validate_scores": {"score": scores, "outcome": outcome},
    }


FINDING = {"stage": "validate_data", "metric": "data_usage_gb", "value": "d5", "test": "band",
           "statistic": 17.2, "p_value": None, "adjusted_p": None, "effect": 0.61, "series": []}  # fmt: skip
CHANGES = [
    {"stage": "validate_data", "metric": "data_usage_gb", "since": "2025-06-01",
     "why": "data_usage_gb (d5 17.2 vs 12.1 expected from the reference, since 2025-06-01)"},
    {"stage": "validate_data", "metric": "data_usage_gb[region=south]", "since": "2025-06-01",
     "why": "data_usage_gb in region=south (d5 16.4 vs 14 expected from the reference, since 2025-06-01)"},
]  # fmt: skip
ALERTS = [
    {"timestamp": "2025-06-01", "run_id": "run-2025-06", "severity": "high", "changes": CHANGES,
     "metrics": ["data_usage_gb", "data_usage_gb[region=south]", "score"],
     "findings": [FINDING, {**FINDING, "value": "d9", "statistic": 21.0, "effect": 0.7},
                  {**FINDING, "stage": "validate_scores", "metric": "score", "value": "distribution",
                   "test": "ks", "statistic": 0.21, "p_value": 1e-9, "adjusted_p": 4e-8, "effect": 0.21}]},
    {"timestamp": "2025-05-01", "run_id": "run-2025-05", "severity": "medium", "metrics": ["monthly_charges"],
     "findings": [{**FINDING, "metric": "monthly_charges", "value": "mean", "test": "trend",
                   "statistic": 0.8, "p_value": 0.002, "adjusted_p": 0.04, "effect": 0.3}]},
]  # fmt: skip


def version(
    name: str, created: str, auc: float, status: str, through: str, tested: str, **more: object
) -> dict:
    return {"version": name, "created_at": created, "test_auc": auc, "champion": status == "champion",
            "status": "registered" if status == "champion" else status, "run_id": f"run-{name}",
            "trained_through": through, "test_window": {"start": tested, "end": through}, **more}  # fmt: skip


TEST_PERIODS = [
    {"period": f"2024-{m}-01", "roc_auc": {"value": 0.82, "se": 0.01}} for m in ("10", "11", "12")
]
VERSIONS = [
    version("1.0.0", "2024-07-02", 0.81, "registered", "2024-06-01", "2024-04-01"),
    version("1.1.0", "2025-01-05", 0.83, "champion", "2024-12-01", "2024-10-01", reference=TEST_PERIODS),
    version("1.2.0", "2025-03-05", 0.86, "rejected", "2025-02-01", "2024-12-01"),
]


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def count(self, tag: str, css: str | None = None) -> int:
        return sum(
            1 for t, a in self.elements if t == tag and (css is None or css in a.get("class", "").split())
        )


def colour_count(pixels: np.ndarray) -> int:
    """How many distinct colours an RGB image has (each packed in one integer: a unique over
    rows of three costs seconds on a page)."""
    wide = pixels.astype(np.uint32)
    packed = (wide[..., 0] << 16) | (wide[..., 1] << 8) | wide[..., 2]
    return int(np.unique(packed).size)


def png_rgb(path: Path) -> np.ndarray:
    """RGB pixels of an 8-bit, non-interlaced RGB(A) PNG, as Chromium writes them."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        pos += 12 + size
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int64)
    for r in range(height):
        start = r * (stride + 1)
        line = np.frombuffer(raw, np.uint8, stride, start + 1).astype(np.int64)
        kind = raw[start]
        if kind == 0:
            current = line
        elif kind == 1:  # Sub: a running sum per channel
            current = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) & 255
        elif kind == 2:  # Up
            current = (line + previous) & 255
        else:  # Average / Paeth depend on the decoded left neighbour: byte by byte
            out, up = [0] * stride, previous.tolist()
            for i, value in enumerate(line.tolist()):
                left = out[i - bpp] if i >= bpp else 0
                if kind == 3:
                    out[i] = (value + ((left + up[i]) >> 1)) & 255
                    continue
                corner = up[i - bpp] if i >= bpp else 0
                guess = left + up[i] - corner
                da, db, dc = abs(guess - left), abs(guess - up[i]), abs(guess - corner)
                out[i] = (value + (left if da <= db and da <= dc else up[i] if db <= dc else corner)) & 255
            current = np.array(out, dtype=np.int64)
        rows[r] = current
        previous = current
    return rows.reshape(height, width, bpp)[:, :, :3]


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(
        report.render("churn", fixture(), ALERTS, VERSIONS, "2025-06-02T08:00:00Z"), encoding="utf-8"
    )
    return path


def test_chromium_dom_has_the_summary_first_and_the_charts_and_flagged_markers(page, tmp_path):
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    elements = Elements()
    elements.feed(dom)
    assert dom.index('id="summary"') < dom.index("<svg")
    assert "High-severity alert for 2025-06-01: the data changed." in dom
    assert "data_usage_gb in region=south" in dom and "Check the source of data_usage_gb" in dom
    # Performance: the ROC AUC (realized, estimated, the champion's test periods); the segment view
    # draws the flagged segment; behind the toggle, one chart per pooled metric of each stage plus
    # the flagged segment again.
    assert elements.count("svg", "chart") == 1 + 1 + (5 + 2 + 2)
    assert elements.count("details", "details") == 1 and elements.count("details", "alert") == 2
    assert elements.count("text", "axis-label") == 2 * 11  # every chart's two axes say what they show
    # A 20-category feature: its 5 largest categories and "other".
    assert "other (15 categories)" in dom
    # Markers: the AUC drop; the south segment (twice); usage d5 + d9, charges' mean (axis), plan
    # categories (axis) + premium, the scores' distribution (axis).
    assert elements.count("circle", "flagged") == 1 + 2 + 6
    assert elements.count("line", "flag-line") == 3
    assert "status-rejected" in dom and "tested on different windows" in dom
    assert "&lt;b&gt;family&lt;/b&gt;" in dom and "<b>family</b>" not in dom


def test_chromium_screenshot_shows_the_report(page, tmp_path):
    png = tmp_path / "report.png"
    run_chromium(tmp_path, f"--screenshot={png}", "--window-size=1200,2000", page.as_uri())
    assert png.exists() and png.stat().st_size > 20_000
    pixels = png_rgb(png)
    assert pixels.shape == (2000, 1200, 3)
    assert colour_count(pixels) > 100  # text, tables and coloured lines, not a blank page
    assert (pixels < 128).all(axis=2).mean() > 0.002  # dark text and lines are drawn
    # The summary box of an alert to act on is tinted red, at the top of the page.
    tint = np.abs(pixels[:400].astype(int) - SUMMARY_TINT).sum(axis=2) <= 6
    assert tint.sum() > 20_000
    # A flagged marker is a filled red disc: a solid 5×5 block of the flag colour (text and the
    # card borders in that colour are thinner), above the toggle (the performance and segments).
    red = np.abs(pixels.astype(int) - FLAG_RED).sum(axis=2) <= 10
    blocks = np.lib.stride_tricks.sliding_window_view(red, (5, 5)).all(axis=(2, 3))
    assert blocks.any()
