"""The results store of a sweep: an SQLite ledger (WAL, one transaction per run) and its exports.

Owns the ledger schema, resume checks (design hash), `load(DIR)` and the atomic Parquet export.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geosim.experiments.spec import SweepError

LEDGER = "ledger.sqlite"
RUNS_TABLE = "runs.parquet"
SERIES_TABLE = "series.parquet"
LEAD_COLUMNS = ["run_id", "sample_id", "replicate", "seed", "status"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    sample_id INTEGER PRIMARY KEY,
    unit TEXT,                 -- JSON list: the sample in the unit hypercube (null for grids)
    value TEXT NOT NULL,       -- JSON object: parameter -> value passed to the model
    label TEXT NOT NULL        -- JSON object: parameter -> value shown in tables
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    sample_id INTEGER NOT NULL,
    replicate INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    parameters TEXT NOT NULL,  -- JSON object of labels
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    error TEXT,
    outcomes TEXT,             -- JSON object: outcome -> float
    attempts INTEGER NOT NULL DEFAULT 1,
    elapsed REAL,
    finished REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS series (
    run_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    year INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, name, year)
) WITHOUT ROWID;
"""


@dataclass
class RunResult:
    """What a worker sends back for one run (small: scalars and short yearly paths)."""

    run_id: int
    status: str
    outcomes: dict[str, float] = field(default_factory=dict)
    series: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    error: str | None = None
    elapsed: float = 0.0
    attempts: int = 1


class Ledger:
    """The SQLite ledger of one sweep directory; only the driver writes to it.

    Use `Ledger.open(directory, writer=True)` as a context manager: it takes an exclusive lock
    on the directory so two drivers never write the same sweep.
    """

    def __init__(self, directory: Path, conn: sqlite3.Connection, lock: Any = None):
        self.directory = directory
        self.conn = conn
        self._lock = lock

    @classmethod
    def open(cls, directory: str | Path, *, writer: bool = False) -> Ledger:
        """Open (writer: create) the ledger in `directory`."""
        directory = Path(directory)
        path = directory / LEDGER
        lock = None
        if writer:
            directory.mkdir(parents=True, exist_ok=True)
            lock = open(directory / ".lock", "w")  # noqa: SIM115 - held for the ledger's lifetime
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                raise SweepError(f"{directory}: another sweep is writing here") from None
        elif not path.is_file():
            raise SweepError(f"{directory}: no sweep results here (no {LEDGER})")
        if not writer:  # a reader never writes: open read-only, and fail here if it cannot
            try:
                conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True,
                                       timeout=30, isolation_level=None)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as exc:
                raise SweepError(f"{path}: cannot read the sweep ledger ({exc}); in a read-only "
                                 "folder, copy the sweep's folder somewhere writable") from None
            return cls(directory, conn, lock)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        if writer:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes
            conn.executescript(SCHEMA)
        return cls(directory, conn, lock)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and release the directory lock."""
        self.conn.close()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- design ---------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        """The stored metadata (design, hashes, names), JSON-decoded."""
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM meta")}

    def initialise(self, meta: dict[str, Any], values: list[dict], labels: list[dict],
                   unit: np.ndarray | None) -> None:
        """Store a new sweep's metadata and design in one transaction."""
        with self.transaction():
            self.conn.executemany("INSERT INTO meta VALUES (?, ?)",
                                  [(k, json.dumps(v)) for k, v in meta.items()])
            self.conn.executemany(
                "INSERT INTO samples VALUES (?, ?, ?, ?)",
                ((i, None if unit is None else json.dumps(unit[i].tolist()), json.dumps(v),
                  json.dumps(lab)) for i, (v, lab) in enumerate(zip(values, labels, strict=True))),
            )

    def check_resume(self, meta: dict[str, Any]) -> bool:
        """Return False for a new ledger, True when `meta` matches the stored sweep.

        Raises:
            SweepError: when the stored sweep was made from a different design or base scenario.
        """
        stored = self.meta()
        if not stored:
            return False
        if stored["design_hash"] != meta["design_hash"]:
            old, new = stored["design"], meta["design"]
            changed = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
            larger = set(changed) <= {"samples", "replications"}
            raise SweepError(
                f"{self.directory}: holds results of a different design of sweep "
                f"'{stored['name']}' (changed: {', '.join(changed) or 'design'}); resuming would "
                "mix designs. Restore the sweep file, or choose another --out directory."
                + (" A finished sweep is not extended: more samples or replications make a new "
                   "design (run ids and the sampler's layout change; docs/experiments.md)."
                   if larger else "")
            )
        if stored.get("scenario_hash") != meta.get("scenario_hash"):
            raise SweepError(
                f"{self.directory}: the base scenario '{meta['design']['scenario']}' changed since "
                "this sweep started; resuming would mix models. Choose another --out directory."
            )
        return True

    def samples(self) -> tuple[list[dict], list[dict], np.ndarray | None]:
        """The stored design: (values, labels, unit matrix or None)."""
        rows = self.conn.execute("SELECT unit, value, label FROM samples ORDER BY sample_id")
        values, labels, units = [], [], []
        for unit, value, label in rows:
            values.append(json.loads(value))
            labels.append(json.loads(label))
            units.append(None if unit is None else json.loads(unit))
        unit = None if not units or units[0] is None else np.array(units, dtype=float)
        return values, labels, unit

    # -- runs -----------------------------------------------------------------------------

    def transaction(self) -> sqlite3.Connection:
        """A context manager committing on success (BEGIN IMMEDIATE ... COMMIT)."""
        return _Transaction(self.conn)

    def finished(self, status: str | None = None) -> set[int]:
        """run_ids already recorded (optionally only those with `status`)."""
        if status is None:
            return {r for (r,) in self.conn.execute("SELECT run_id FROM runs")}
        q = "SELECT run_id FROM runs WHERE status = ?"
        return {r for (r,) in self.conn.execute(q, (status,))}

    def counts(self) -> dict[str, int]:
        """Number of recorded runs by status."""
        out = {"done": 0, "failed": 0}
        out.update(dict(self.conn.execute("SELECT status, count(*) FROM runs GROUP BY status")))
        return out

    def record(self, run: tuple[int, int, int, int], labels: dict[str, Any],
               result: RunResult) -> None:
        """Record one finished run (its outcomes and series) in a single transaction.

        A run recorded before (a failure being retried on resume) is replaced, never duplicated.
        """
        run_id, sample_id, replicate, seed = run
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, sample_id, replicate, seed, json.dumps(labels), result.status,
                 result.error, json.dumps(result.outcomes), result.attempts, result.elapsed,
                 time.time()),
            )
            self.conn.execute("DELETE FROM series WHERE run_id = ?", (run_id,))
            self.conn.executemany(
                "INSERT INTO series VALUES (?, ?, ?, ?)",
                ((run_id, name, int(y), float(v)) for name, (years, vals) in result.series.items()
                 for y, v in zip(years, vals, strict=True)),
            )

    # -- reading --------------------------------------------------------------------------

    def frame(self) -> pd.DataFrame:
        """One row per recorded run: lead columns, parameters, outcomes, error, elapsed."""
        meta = self.meta()
        params, outcomes = meta.get("parameters", []), meta.get("outcomes", [])
        rows = []
        for rid, sid, rep, seed, status, p, o, err, elapsed, attempts in self.conn.execute(
            "SELECT run_id, sample_id, replicate, seed, status, parameters, outcomes, error, "
            "elapsed, attempts FROM runs ORDER BY run_id"
        ):
            p, o = json.loads(p), json.loads(o or "{}")
            rows.append([rid, sid, rep, seed, status, *(p.get(k) for k in params),
                         *(o.get(k, np.nan) for k in outcomes), err, elapsed, attempts])
        columns = [*LEAD_COLUMNS, *params, *outcomes, "error", "elapsed", "attempts"]
        df = pd.DataFrame(rows, columns=columns)
        for k in outcomes:
            df[k] = df[k].astype(float)
        return df

    def series_frame(self) -> pd.DataFrame:
        """Long table of yearly paths: run_id, sample_id, replicate, name, year, value."""
        return pd.read_sql_query(
            "SELECT s.run_id, r.sample_id, r.replicate, s.name, s.year, s.value FROM series s "
            "JOIN runs r USING (run_id) WHERE r.status = 'done' ORDER BY s.run_id, s.name, s.year",
            self.conn,
        )

    def export(self) -> list[Path]:
        """Write `runs.parquet` (and `series.parquet` if any) atomically; return the paths."""
        written = [write_parquet(self.frame(), self.directory / RUNS_TABLE)]
        if self.conn.execute("SELECT 1 FROM series LIMIT 1").fetchone():
            written.append(write_parquet(self.series_frame(), self.directory / SERIES_TABLE))
        return written


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write a Parquet file atomically (temporary file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load(directory: str | Path) -> pd.DataFrame:
    """Load a sweep's results: one row per finished run.

    Columns: `run_id, sample_id, replicate, seed, status`, every parameter (labels for named
    levels), every outcome, then `error, elapsed, attempts`. Reads the ledger when present
    (current even while the sweep runs), else `runs.parquet`.

    Args:
        directory: the sweep's output directory (`results/sweeps/<name>/`).
    """
    directory = Path(directory)
    if (directory / LEDGER).is_file():
        with Ledger.open(directory) as ledger:
            return ledger.frame()
    if (directory / RUNS_TABLE).is_file():
        return pd.read_parquet(directory / RUNS_TABLE)
    raise SweepError(f"{directory}: no sweep results here (no {LEDGER} or {RUNS_TABLE})")


def load_series(directory: str | Path) -> pd.DataFrame:
    """Load the stored yearly paths (empty when the sweep stored none)."""
    directory = Path(directory)
    if (directory / LEDGER).is_file():
        with Ledger.open(directory) as ledger:
            return ledger.series_frame()
    if (directory / SERIES_TABLE).is_file():
        return pd.read_parquet(directory / SERIES_TABLE)
    return pd.DataFrame(columns=["run_id", "sample_id", "replicate", "name", "year", "value"])


def load_meta(directory: str | Path) -> dict[str, Any]:
    """The stored metadata of a sweep (design, names, hashes)."""
    with Ledger.open(directory) as ledger:
        return ledger.meta()
