"""One module per pane of the testwatch app."""
