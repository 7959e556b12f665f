"""TensorFlow: tf.Tensor and tf.Variable results, computed on the host (``adapters.bridge``)."""
