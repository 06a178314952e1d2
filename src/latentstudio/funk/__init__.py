"""NeuralFunk (Max Frenzel): new drum samples from a spectrogram VAE and a WaveNet, and a track made of them.

* :mod:`.data` — every one-shot source the project has (the beatbox's drum splits by origin, Tux Paint sounds)
* :mod:`.features` — 16 kHz log-mel frames (FFT 1024, hop 256, 128 bands) in [0, 1]; Griffin-Lim back
* :mod:`.vae` — ``SampleVAE``: conv encoder, IAF posterior, 64-d latent, transposed-conv decoder, drum head
* :mod:`.training` — ``train_sample_vae`` with the project's loop; class statistics for dreams
* :mod:`.wavenet` — a WaveNet vocoder conditioned on mel frames and the latent, mu-law output, cached
  incremental generation (fast-wavenet) beside the naive one
* :mod:`.pipeline` — encode, decode, sample, dream, reimagine, blend, interpolate -> ``Generated``
* :mod:`.library` — the user's samples in the catalog, searched by latent
* :mod:`.track` — a drum & bass piece of dreamt samples through the beatbox's rhythm VAE and sequencer
* :mod:`.models` — the shipped models and the one loader

Example
-------
>>> from latentstudio.funk.models import load_funk_models                 # doctest: +SKIP
>>> from latentstudio.funk.pipeline import dream                           # doctest: +SKIP
>>> vae, info, _ = load_funk_models()                                      # doctest: +SKIP
>>> dream(vae, info, n=8, drum="snare").save("dreams/")                    # doctest: +SKIP
"""
