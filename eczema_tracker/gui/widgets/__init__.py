"""Reusable Qt widgets: mask painter, timeline, and their helpers."""
