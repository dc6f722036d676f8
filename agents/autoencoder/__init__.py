"""Autoencoders of arena/Reconstruction-v0: plain, sparse and denoising."""
