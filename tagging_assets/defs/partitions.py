"""One dynamic partition per batch, keyed by the batch id, so batches in flight never clobber each other."""

from dagster import DynamicPartitionsDefinition

BATCH_PARTITIONS = "openai_batches"
batch_partitions = DynamicPartitionsDefinition(name=BATCH_PARTITIONS)
