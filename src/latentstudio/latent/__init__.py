"""Latent Pulsations and Latent Landscapes (Max Frenzel): a VAE's latent space as the artwork."""
