"""The ``tagging-assets`` command line, the backend it talks to, and the end-to-end demo."""
