"""The timeline panel: the view, its points and the panel around it."""
