"""The library: settings, errors, contracts, the protocols' facts, the cache, selection, shards, results and reports.

Nothing here imports Dagster. This file imports nothing, so that the gateway can import the contracts alone.
"""
