"""Collection of the package's doctests: modules of optional integrations need their package.

A module that subclasses a class of an optional package (xarray, MONAI)
cannot be imported without it; its doctests are left out of collection,
with the reason, when that package is absent.
"""

from __future__ import annotations

import importlib.util

OPTIONAL_MODULES = {
    "src/dicomnp/imageio.py": "imageio",
    "src/dicomnp/xarray.py": "xarray",
    "src/dicomnp/monai.py": "monai",
}
"""Module file of the package, and the package its import and doctests need."""

collect_ignore = [
    path for path, needs in OPTIONAL_MODULES.items() if importlib.util.find_spec(needs) is None
]
