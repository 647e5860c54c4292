"""The Beam pipeline and its PTransforms."""
