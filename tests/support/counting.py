"""A file object that records which bytes are read, to test partial reads."""

from __future__ import annotations

import io
from typing import Any


class CountingReader(io.BytesIO):
    """A binary file that records every read as (offset, byte count)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[tuple[int, int]] = []

    def read(self, size: int | None = -1) -> bytes:
        offset = self.tell()
        data = super().read(size)
        self.reads.append((offset, len(data)))
        return data

    def readinto(self, buffer: Any) -> int:
        offset = self.tell()
        count = super().readinto(buffer)
        self.reads.append((offset, count))
        return count

    def bytes_read_between(self, start: int, end: int) -> int:
        """Bytes read that lie in ``[start, end)``."""
        return sum(
            max(0, min(offset + count, end) - max(offset, start)) for offset, count in self.reads
        )
