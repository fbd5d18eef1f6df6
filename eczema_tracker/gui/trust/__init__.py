"""Trust in the window: the checks kept up to date and the summary in the prompt panel."""
