"""Code that runs inside the user's pytest (and the warm and leak-hunt processes): the event
plugin and its wire protocol, per-test memory, memray, dependency recording. Standard library
only (memray and pytest where they are the subject), never imports the rest of testwatch: the
folder is copied whole onto a foreign interpreter's ``PYTHONPATH``."""
