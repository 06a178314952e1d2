"""NeuralFunk (Max Frenzel): new drum samples from a spectrogram VAE and a WaveNet, and a track made of them."""
