"""Without the dask extra, dicomnp imports and the Dask functions say what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dicomnp.examples import write_ct_series

BLOCK_DASK = """
import sys
sys.modules.update(dask=None, distributed=None, zarr=None)  # as if not installed
"""


def test_missing_dask_is_a_clear_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dicomnp
    from dicomnp.batch import convert_tree
    from dicomnp.dask_io import combine_series_dask, read_dask

    for name in ("dask", "zarr"):
        monkeypatch.setitem(sys.modules, name, None)  # find_spec then reports it missing
    paths = write_ct_series(tmp_path / "in", 3, 8, 8)
    with pytest.raises(
        dicomnp.MissingDependencyError, match=r"pip install 'dicomnp\[dask\]'"
    ) as caught:
        combine_series_dask(tmp_path / "in")
    assert isinstance(caught.value, ImportError)
    assert caught.value.packages == ("dask",)
    with pytest.raises(ImportError, match="read_dask needs dask"):
        read_dask(paths[0])
    with pytest.raises(dicomnp.MissingDependencyError, match="dask, zarr"):
        convert_tree(tmp_path / "in", tmp_path / "out", output="zarr")
    report = convert_tree(tmp_path / "in", tmp_path / "out")  # in-process NPY needs no Dask
    assert len(report.converted) == 1


def test_import_dicomnp_works_without_dask() -> None:
    probe = BLOCK_DASK + (
        "import dicomnp, dicomnp.dask_io, dicomnp.batch\n"
        "try:\n"
        "    dicomnp.dask_io.read_dask('x.dcm')\n"
        "except dicomnp.MissingDependencyError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "pip install 'dicomnp[dask]'" in done.stdout
