"""The timeline both the window and the report draw: its data, axes, record layers and matplotlib figure (no Qt)."""
