"""GAN latent walks: train a small GAN on your pictures (or play pretrained ones) and walk its latent space.

* :mod:`.data` — picture sets: a folder, Tux Paint's stamps on white, Fashion-MNIST; squared, deduplicated by
  content, split by a perceptual fingerprint so near-copies stay together
* :mod:`.augment` — DiffAugment (colour, translation, cutout) of everything the discriminator sees
* :mod:`.models` — ``GAN``: a residual generator, a spectral-norm discriminator and the generator's moving
  average in one registered module whose forward is one summed loss (D on detached fakes, G through a
  parameter-detached D), so :func:`latentstudio.train.fit` trains both with one AdamW
* :mod:`.training` — ``train_gan``: the project's loop, resumable checkpoints, sample grids, FID/KID at the end
* :mod:`.metrics` — FID/KID (EfficientNet-Lite0 features) with the real-vs-real floor
* :mod:`.walk` — keyframes, lerp/slerp, easing, loops, constant perceived speed (feature arc length),
  beat-locked keys and pushes
* :mod:`.project` — latents that reconstruct a picture (pixel + feature loss, restarts)
* :mod:`.glitch` — seeded perturbation of chosen layers
* :mod:`.pipeline` — ``train_run``, ``sample_run``, ``walk_run``, ``project_run``, ``glitch_run``, ``evaluate_run``
  (what the CLI calls); pretrained generators come from :mod:`latentstudio.zoo.pretrained_gans`

Example
-------
>>> from latentstudio.gan.pipeline import train_run, walk_run                                  # doctest: +SKIP
>>> train_run("tuxpaint", "models/gan-tux", image_size=32, steps=3000)                        # doctest: +SKIP
>>> walk_run("models/gan-tux", "walk.mp4", seeds=[1, 2, 3, 4], loop=True)                      # doctest: +SKIP
>>> walk_run("omniart-eyes", "eyes.mp4", music="track.wav", beats_per_key=2)                  # doctest: +SKIP
"""
