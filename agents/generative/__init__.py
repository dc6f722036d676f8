"""Generative agents of arena/Generation-v0: a GAN, WGAN-GP and a VAE."""
