"""The Dagster layer, thin and declarative: assets, checks, jobs, partitions, the sensor, the schedule, resources."""
