"""Qt views. Everything Qt lives under this package; the model and IO never import it."""
