"""JAX: the adapter, the JAX-key calling convention (``init(key, shape, dtype)``) and shardings."""
