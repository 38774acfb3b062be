"""The light coastline under the trade map: Natural Earth 1:110m country outlines of the Americas.

Owns loading the shipped outline (`outline_data.py`) and its reproducible build from a shapefile.

Source: Natural Earth, Admin 0 – Countries, 1:110m (public domain, naturalearthdata.com), as
shipped in geopandas 0.14.4 (`geopandas/datasets/naturalearth_lowres`). Rebuild with
``python -m geosim.plotting.outline path/to/naturalearth_lowres.shp`` (the .dbf beside it).
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np

CONTINENTS = (b"North America", b"South America")
PRECISION = 10  # vertices stored in tenths of a degree


def load_outline() -> list[np.ndarray]:
    """The shipped outline rings, each an m×2 array of (lon, lat) degrees."""
    from geosim.plotting.outline_data import RINGS

    return [np.asarray(ring, dtype=float).reshape(-1, 2) / PRECISION for ring in RINGS]


def read_rings(shp: Path) -> list[np.ndarray]:
    """Outer and inner rings of the Americas' polygons in an ESRI shapefile (+ its .dbf).

    Only what Natural Earth's countries file needs: polygon shapes and a CONTINENT field.
    """
    continents = _read_dbf_field(shp.with_suffix(".dbf"), b"CONTINENT")
    data = shp.read_bytes()
    rings: list[np.ndarray] = []
    offset, record = 100, 0
    while offset < len(data):
        _, length = struct.unpack(">2i", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + 2 * length]
        offset += 8 + 2 * length
        keep = continents[record].strip() in CONTINENTS
        record += 1
        if not keep or struct.unpack("<i", body[:4])[0] != 5:  # 5 = polygon
            continue
        n_parts, n_points = struct.unpack("<2i", body[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", body[44:44 + 4 * n_parts])) + [n_points]
        start = 44 + 4 * n_parts
        points = np.frombuffer(body[start:start + 16 * n_points], dtype="<f8").reshape(-1, 2)
        rings.extend(points[a:b] for a, b in zip(parts[:-1], parts[1:], strict=True))
    return rings


def _read_dbf_field(dbf: Path, name: bytes) -> list[bytes]:
    """One character field of a dBase III table, as raw bytes per record."""
    data = dbf.read_bytes()
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    position, width, offset = None, 0, 1  # each record starts with a deletion flag byte
    for at in range(32, header_len - 1, 32):
        field_name = data[at:at + 11].split(b"\0")[0]
        if field_name.upper() == name.upper():
            position, width = offset, data[at + 16]
        offset += data[at + 16]
    if position is None:
        raise ValueError(f"{dbf}: no field {name.decode()}")
    return [data[header_len + i * record_len + position:][:width] for i in range(n_records)]


def write_data_module(rings: list[np.ndarray], out: Path) -> None:
    """Write the rings, rounded to `PRECISION`, as the Python module `outline_data.py`."""
    lines = ['"""Natural Earth 1:110m outlines of the Americas (public domain); see outline.py."""',
             "", "# fmt: off", "RINGS = ("]
    for ring in rings:
        ints = np.round(ring * PRECISION).astype(int).reshape(-1, 2)
        ints = ints[np.r_[True, (np.diff(ints, axis=0) != 0).any(axis=1)]]  # drop repeats
        if len(ints) < 4:
            continue
        flat = [str(v) for v in ints.ravel()]
        lines.append("    (")
        row = "       "
        for value in flat:
            if len(row) + len(value) + 2 > 99:
                lines.append(row)
                row = "       "
            row += f" {value},"
        lines.extend([row, "    ),"])
    lines.extend([")", "# fmt: on", ""])
    out.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    write_data_module(read_rings(Path(sys.argv[1])), Path(__file__).with_name("outline_data.py"))
