"""Everything that talks to the outside: Kafka, Elasticsearch, feeds, notifiers."""
