"""NumPy: the adapter, its dtypes (shared with CuPy) and the host kernel of the portable stream
(the optional C extension ``_threefry_c`` and its NumPy twin)."""
