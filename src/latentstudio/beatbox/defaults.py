"""Training defaults the beatbox's training functions, its pipeline and the CLI share (no torch here, so the
CLI starts fast and the three cannot drift apart)."""

#: Dilations of the onset network's temporal convolutions: +-0.31 s of context (to 32: +-0.63 s, no better on
#: validation, slower)
ONSET_DILATIONS = (1, 2, 4, 8, 16)

#: Share of the onset network's training rooms that are FluidSynth's hall measured with a click (chosen on
#: validation; see :data:`latentstudio.beatbox.onsetnet.HALLS`)
ONSET_HALLS = 0.5

#: Analysis windows (samples at 16 kHz) of the onset network's log-mel inputs, one pair of channels each
ONSET_WINDOWS = (1024,)

#: Whether the onset network also reads per-channel energy normalised mel magnitudes (two more input channels).
#: Off for one network: on validation (3 seeds, halls 0.5) 0.954 (0.952-0.955) with them against 0.953 (0.953-0.956)
#: without; one of the three members of the shipped ensemble (``beatbox join-onsets``) reads them
ONSET_PCEN = False

__all__ = ["ONSET_DILATIONS", "ONSET_HALLS", "ONSET_PCEN", "ONSET_WINDOWS"]
