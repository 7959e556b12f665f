"""Dask: the adapter (lazy arrays whose chunks draw their block of the portable stream)."""
