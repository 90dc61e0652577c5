"""Tag a Qdrant cache of video transcripts with OpenAI Batch API jobs, as Dagster assets."""

__version__ = "0.1.0"
