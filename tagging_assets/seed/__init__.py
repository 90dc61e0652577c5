"""Filling a cache as the caching step upstream would: the bundled samples, a deterministic embedding, seeding."""
