"""Tests of the Dask integration: lazy arrays and batch conversion."""
