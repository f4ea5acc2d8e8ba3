"""Read a store that another process is writing (or was killed while writing), without a lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def count_rows(db: Path, table: str) -> int:
    """Rows in ``table``, read-only (0 while the writer has not created the file or schema yet)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()
