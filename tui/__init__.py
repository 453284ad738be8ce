"""The Textual app of testwatch: screens, panes and their styles."""
