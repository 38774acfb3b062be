"""`geosim sweep` outside a terminal: progress lines on stderr, Ctrl-C says how many runs are
stored, and `--plan` gives the size and an estimated time without running anything."""

from __future__ import annotations

import io
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geosim.cli import main
from geosim.experiments.sweep import ProgressLines, format_seconds

ROOT = Path(__file__).resolve().parents[1]
SWEEP = """\
name: progress
scenario: baseline
sampler: random
samples: 400  # many more than run before the Ctrl-C below, even on a fast machine
seed: 9
until: 2030
parameters:
  sigma: {low: 3.5, high: 7.0}
outcomes:
  share: {metric: china_trade_share, of: region, reduce: final}
"""


def test_progress_lines_give_count_rate_and_eta_at_most_every_interval(monkeypatch):
    clock = iter([0.0, 1.0, 2.0, 40.0, 41.0, 50.0])
    monkeypatch.setattr("geosim.experiments.sweep.time.monotonic", lambda: next(clock))
    out = io.StringIO()
    lines = ProgressLines("s", total=10, before=2, stream=out)  # 2 done before (a resume)
    for finished in (3, 4, 5, 6, 10):  # at t = 1 (first), 2 (skipped), 40, 41 (skipped), 50
        lines.update(finished, failed=1)
    printed = out.getvalue().splitlines()
    assert printed == ["s: 3/10 runs (30 %, 1 failed), 1.00 runs/s, ETA 7 s",
                       "s: 5/10 runs (50 %, 1 failed), 0.07 runs/s, ETA 1 min 07 s",
                       "s: 10/10 runs (100 %, 1 failed), 0.16 runs/s, ETA 0 s"]
    assert format_seconds(7505) == "2 h 05 min" and format_seconds(125) == "2 min 05 s"


def test_a_sweep_in_a_log_prints_progress_and_ctrl_c_says_what_is_stored(tmp_path):
    (tmp_path / "progress.yaml").write_text(SWEEP)
    out = tmp_path / "out"
    driver = subprocess.Popen(
        [sys.executable, "-m", "geosim", "sweep", str(tmp_path / "progress.yaml"), "--out",
         str(out), "--workers", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    first = driver.stderr.readline()  # stderr is a pipe, not a terminal: plain lines
    assert re.fullmatch(r"progress: 1/400 runs \(0 %, 0 failed\), [\d.]+ runs/s, ETA .+\n", first)
    time.sleep(0.5)
    driver.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, err = driver.communicate(timeout=60)
    assert driver.returncode == 130
    m = re.search(r"interrupted: (\d+) of 400 runs are stored in (.+ledger\.sqlite) \(0 failed\); "
                  r"rerun the same command to resume", err)
    assert m, err
    with sqlite3.connect(out / "ledger.sqlite") as conn:
        stored = conn.execute("SELECT count(*) FROM runs WHERE status = 'done'").fetchone()[0]
    assert stored == int(m.group(1)) and 1 <= stored < 400
    assert "Traceback" not in err


def test_plan_prints_the_run_count_and_a_time_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "progress.yaml").write_text(SWEEP)
    out = tmp_path / "out"
    assert main(["sweep", str(tmp_path / "progress.yaml"), "--plan", "--workers", "2",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "progress: random, 400 samples x 1 replication = 400 runs" in printed
    seconds = float(re.search(r"one run takes about ([\d.]+) s", printed).group(1))
    assert 0 < seconds < 30
    assert "400 runs on 2 worker processes: about" in printed
    assert not out.exists()
    assert main(["sweep", str(tmp_path / "progress.yaml"), "--plan", "--scheduler",
                 "tcp://127.0.0.1:9"]) == 2
    assert "--plan estimates a local sweep" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["samples: 400", "until: 2030"])
def test_plan_checks_the_sweep_file_like_a_run(tmp_path, capsys, bad):
    broken = SWEEP.replace(bad, bad.split(":")[0] + ": soon")
    (tmp_path / "bad.yaml").write_text(broken)
    assert main(["sweep", str(tmp_path / "bad.yaml"), "--plan"]) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_a_larger_design_in_a_finished_sweep_is_refused_saying_why(tmp_path, capsys):
    small = SWEEP.replace("samples: 400", "samples: 2").replace("until: 2030", "until: 2024")
    (tmp_path / "s.yaml").write_text(small)
    out = tmp_path / "out"
    assert main(["sweep", str(tmp_path / "s.yaml"), "--workers", "1", "--quiet",
                 "--out", str(out)]) == 0
    (tmp_path / "s.yaml").write_text(small.replace("samples: 2", "samples: 4"))
    assert main(["sweep", str(tmp_path / "s.yaml"), "--workers", "1", "--quiet",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "(changed: samples)" in err and "A finished sweep is not extended" in err
