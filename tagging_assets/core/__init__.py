"""The library: settings, errors, contracts, the cache, selection, shards, the wire seam, results and reports.

Nothing here imports Dagster. This file imports nothing, so that the gateway can import the contracts alone.
"""
