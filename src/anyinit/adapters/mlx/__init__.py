"""MLX: mx.array results, computed on the host (``adapters.bridge``)."""
