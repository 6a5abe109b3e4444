//! loki-config.yaml: the model, its defaults, and loading with errors that name the file, the line and the problem.
