"""Data sources that run in testwatch's own process: the file watcher (watchfiles), the process
tree sampler (psutil) and the rules for which files belong to the project. Import nothing
from the core."""
