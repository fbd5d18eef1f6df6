"""Backups: export to a zip, its format, restore, and finishing or undoing a restore cut short."""
