"""CuPy: the adapter (CuPy's generators and QR on the array's GPU)."""
