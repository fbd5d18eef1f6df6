"""Foundations every layer may use: paths, atomic writes, progress and cancel, image decoding,
user-facing errors and the domain scales (severity, POEM). Imports nothing else of the package."""
