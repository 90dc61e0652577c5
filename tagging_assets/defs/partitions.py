"""One dynamic partition per batch, keyed by the batch id, so batches in flight never clobber each other."""

from dagster import DynamicPartitionsDefinition

batch_partitions = DynamicPartitionsDefinition(name="openai_batches")
