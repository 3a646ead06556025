"""The side-by-side benchmark of dicomnp against its peers (``python -m benchmarks``)."""
