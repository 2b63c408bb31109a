"""Export a trained Keras model to TFLite, ONNX and a TFLM C array, each checked against the float model."""
