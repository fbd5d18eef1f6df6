"""The record in the window: check-in, daily numbers row, day dialog, days recorded and treatments."""
