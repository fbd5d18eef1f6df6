"""Eczema Tracker: monitor eczema from your own photos, entirely on your own machine."""

__version__ = "0.2.0"
