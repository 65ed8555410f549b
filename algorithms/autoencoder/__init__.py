"""Latent space of images from a tunable convolutional autoencoder (Data Clinic)."""
