"""One interface to every provider's Batch API (``base.BatchApi``), one implementation per provider, and the
one place that picks the implementation for the configured provider (``dispatch``)."""
