"""Local services started from the registries: Kafka, Elasticsearch, and Prism for Beam."""
