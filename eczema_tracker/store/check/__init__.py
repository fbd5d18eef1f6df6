"""Checking the store: the checker, its file, record and inspection passes, and repair."""
