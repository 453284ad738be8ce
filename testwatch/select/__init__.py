"""Which tests a change can affect: file fingerprints, recorded dependencies and their index, the
import graph, the environment fingerprint, and the selection with its reasons and order.
Imports ``model``, ``config``, ``history`` and ``testwatch.collectors.in_testwatch``."""
