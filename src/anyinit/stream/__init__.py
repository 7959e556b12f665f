"""The portable stream: the numbers behind integer seeds, the same on every library.

One sub-package, one job each:

* ``threefry``: JAX's Threefry-2x32 keys, counters and bits, in Array API
  integer operations (the reference every kernel equals bit for bit);
* ``transforms``: float32 uniform, normal and truncated normal from those
  bits, with JAX's constructions and total maps (finite and inside for every
  input word).

The fast kernels of the same bits live with their library's adapter:
``anyinit.adapters.numpy.kernel`` (blocked and threaded, with the optional C extension;
used by NumPy, and by torch and the host on the CPU) and
``anyinit.adapters.torch.kernel`` (int32 tensor arithmetic, for torch's other devices).
"""

from . import transforms
from .threefry import StreamKey, counters, independent_streams, key_from_seed
from .transforms import *  # noqa: F403 - the transforms' own __all__ is the list

__all__ = ["StreamKey", "counters", "independent_streams", "key_from_seed", *transforms.__all__]
