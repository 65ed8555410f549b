"""Image classification with Keras application networks (MLCoach's probabilistic classifiers)."""
