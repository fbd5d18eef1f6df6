"""Eczema Tracker: monitor eczema from your own photos, entirely on your own machine."""

__version__ = "0.1.0"
