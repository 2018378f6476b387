"""DeeBERT early-exit classifier: data preparation, training and export to a SavedModel."""
