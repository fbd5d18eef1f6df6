"""The application layer: settings, the model choice and pipeline cache, analysis of stored
photos, personal severity models. The GUI and the CLI reach `ml` and `store` through here."""
