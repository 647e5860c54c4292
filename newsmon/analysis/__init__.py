"""The domain core: what newsmon makes of an article, as pure functions over frozen dataclasses.

Nothing here imports Beam, Kafka or Elasticsearch: the pipeline's steps, the CLI, the
tests and the benchmarks all call the same code.
"""
