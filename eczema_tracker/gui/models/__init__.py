"""Models in the window: model status and downloads, chosen folders, and the personal severity model."""
