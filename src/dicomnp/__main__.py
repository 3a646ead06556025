"""``python -m dicomnp``: the ``dicomnp`` command (see :mod:`dicomnp.cli`)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
