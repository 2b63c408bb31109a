"""Training (TensorFlow/Keras): the reference notebook's models, the shipped augmented CNN, reports."""
