"""Field reports: the model, intake, corrections and the help-request lifecycle."""
