"""PyTorch: the adapter, ``torch.nn.init``'s own in-place steps, devices, DTensor shards and the
int32 Threefry kernel for non-CPU devices. Every module here imports torch; nothing outside
this package does."""
