"""The device side: what a Raspberry Pi runs. Never imports TensorFlow or Keras."""
