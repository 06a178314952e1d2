"""A pattern grammar for common styles: seeded two-bar drum patterns for training the rhythm VAE.

Each style is a skeleton (which steps of one bar each voice may play, with a probability and an
accent), written as 16-character strings: ``x`` always, ``o`` often (p=0.6), ``-`` sometimes (p=0.2),
``.`` never. A pattern draws each bar from the skeleton, adds ghost notes, an optional crash on the
downbeat and a tom fill at the end of bar two, then velocities (accents, ghosts) and micro-timing
(swing and human jitter).

Example
-------
>>> import numpy as np
>>> p = style_pattern("rock", np.random.default_rng(0))
>>> int(p.hits[0, 0]), int(p.hits[4, 1])     # kick on one, snare on two
(1, 1)
"""

from __future__ import annotations

import numpy as np

from latentstudio.beatbox.pattern import N_VOICES, STEPS, STEPS_PER_BAR, VOICES, DrumPattern
from latentstudio.errors import ParameterError

_P = {"x": 1.0, "o": 0.6, "-": 0.2, ".": 0.0}
#: style -> {voice: alternative skeletons (one chosen per pattern)}, swing amount, fill probability
STYLES: dict[str, dict] = {
    "rock": {"kick": ["x.......x.......", "x.......x.x.....", "x......-x.o....-"],
             "snare": ["....x.......x...", "....x.......x..-"],
             "closed_hat": ["x.x.x.x.x.x.x.x.", "x...x...x...x...", "xxxxxxxxxxxxxxxx"],
             "crash": ["-..............."], "swing": 0.0, "fill": 0.35},
    "funk": {"kick": ["x.-...o.-.x..-..", "x..x..x...x..x.."],
             "snare": ["....x..-.-..x..-", "....x.-.-...x.-."],
             "closed_hat": ["xxxxxxxxxxxxxxxx", "x.xxx.xxx.xxx.xx"], "open_hat": ["......-.......-."],
             "swing": 0.05, "fill": 0.2},
    "hiphop": {"kick": ["x.........x.....", "x......x..x.....", "x.x.......x..-.."],
               "snare": ["....x.......x...", "....x.......x.-."],
               "closed_hat": ["x.x.x.x.x.x.x.x.", "x.xxx.x.x.xxx.x."], "open_hat": ["..............-."],
               "swing": 0.25, "fill": 0.1},
    "house": {"kick": ["x...x...x...x..."], "snare": ["....x.......x..."],
              "closed_hat": ["xxxxxxxxxxxxxxxx", "x.x.x.x.x.x.x.x.", "................"],
              "open_hat": ["..x...x...x...x."], "ride": ["................", "x.x.x.x.x.x.x.x."],
              "swing": 0.08, "fill": 0.1},
    "techno": {"kick": ["x...x...x...x..."], "snare": ["................", "....-.......x..."],
               "closed_hat": ["..x...x...x...x.", "xxxxxxxxxxxxxxxx", "x.xxx.xxx.xxx.xx"],
               "open_hat": ["................", "..x...x...x...x."], "ride": ["................", "x.x.x.x.x.x.x.x."],
               "crash": ["-..............."], "swing": 0.0, "fill": 0.05},
    "trap": {"kick": ["x......x..x.....", "x.....x..x...-.."], "snare": ["........x.......", "........x......-"],
             "closed_hat": ["xxxxxxxxxxxxxxxx", "x.x.x.x.xxx.x.xx", "x.x.x.x.x.x.x.x."],
             "open_hat": ["...........-...."], "swing": 0.0, "fill": 0.1},
    "dnb": {"kick": ["x.........x.....", "x.x.......x....."], "snare": ["....x.......x...", "....x..-.x..x..."],
            "closed_hat": ["x.x.x.x.x.x.x.x.", "xxxxxxxxxxxxxxxx"], "ride": ["................", "x.x.x.x.x.x.x.x."],
            "swing": 0.0, "fill": 0.25},
    "reggae": {"kick": ["........x......."], "snare": ["........x......."],
               "closed_hat": ["x.x.x.x.x.x.x.x.", "..x...x...x...x."], "open_hat": ["......-........."],
               "swing": 0.2, "fill": 0.1},
    "bossa": {"kick": ["x..x....x..x....", "x..xx..xx..xx..x"], "snare": ["x..x..x...x..x..", "..x..x...x..x..."],
              "closed_hat": ["x.x.x.x.x.x.x.x.", "xxxxxxxxxxxxxxxx"], "ride": ["................", "x.x.x.x.x.x.x.x."],
              "swing": 0.0, "fill": 0.05},
    "shuffle": {"kick": ["x.......-.......", "x..-....x..-...."], "snare": ["....x.......x...", "...-x..-...-x..-"],
                "closed_hat": ["....x.......x...", "................"], "ride": ["x...x..xx...x..x", "x..xx..xx..xx..x"],
                "swing": 0.33, "fill": 0.25},
    "afrobeat": {"kick": ["x......x..x.....", "x..x...x..x..x.."], "snare": ["....x..x.-..x...", "...x..x....x..x."],
                 "closed_hat": ["xxxxxxxxxxxxxxxx", "x.xxx.xxx.xxx.xx"], "open_hat": ["..-...-...-...-."],
                 "swing": 0.1, "fill": 0.15},
    "halftime": {"kick": ["x.........-.....", "x......-........"], "snare": ["........x......."],
                 "closed_hat": ["x.x.x.x.x.x.x.x.", "x...x...x...x..."], "ride": ["................", "x...x...x...x..."],
                 "crash": ["-..............."], "swing": 0.0, "fill": 0.3},
    "sparse": {"kick": ["x...............", "x.......-......."], "snare": ["........-.......", "....x..........."],
               "closed_hat": ["x...x...x...x...", "x.......x.......", "................"],
               "ride": ["................", "x...x...x...x..."], "swing": 0.0, "fill": 0.1},
}
_FILLS = ["....xxxx", "..x.x.xx", "xx.xx.xx", "x.x.x.x.", "...xx.xx"]


def _bar(skeleton: str, rng: np.random.Generator) -> np.ndarray:
    p = np.array([_P[c] for c in skeleton])
    return (rng.random(STEPS_PER_BAR) < p).astype(np.float32)


def style_pattern(style: str, rng: np.random.Generator) -> DrumPattern:
    """One random two-bar pattern of ``style`` (a key of :data:`STYLES`)."""
    if style not in STYLES:
        raise ParameterError(f"style={style!r} is not known; choose from {', '.join(STYLES)}")
    spec = STYLES[style]
    hits = np.zeros((STEPS, N_VOICES), np.float32)
    for voice, skeletons in spec.items():
        if voice in ("swing", "fill"):
            continue
        v = VOICES.index(voice)
        sk = skeletons[rng.integers(len(skeletons))]
        for bar in range(2):
            hits[bar * 16:(bar + 1) * 16, v] = _bar(sk, rng)
    ghost = rng.random((STEPS, 2)) < rng.uniform(0.0, 0.08)  # ghost kicks and snares
    hits[:, :2] = np.maximum(hits[:, :2], ghost)
    if rng.random() < spec["fill"]:  # a tom fill over the last half bar
        fill = _FILLS[rng.integers(len(_FILLS))]
        toms = rng.integers(4, 7, size=8)
        for i, c in enumerate(fill):
            if c == "x":
                s = STEPS - 8 + i
                hits[s, [1, 2, 4, 5, 6]] = 0
                hits[s, toms[i] if rng.random() < 0.8 else 1] = 1
        if rng.random() < 0.5:
            hits[0, VOICES.index("crash")] = 1
    # a closed hat and an open hat never sound on the same step
    both = (hits[:, 2] > 0) & (hits[:, 3] > 0)
    hits[both, 2] = 0
    steps = np.arange(STEPS)[:, None]
    accent = np.where(steps % 4 == 0, 0.85, np.where(steps % 2 == 0, 0.7, 0.55))
    velocity = np.clip(accent + rng.normal(0, 0.08, hits.shape), 0.15, 1.0) * hits
    velocity[:, :2] = np.where(ghost & (velocity[:, :2] > 0), rng.uniform(0.2, 0.4, (STEPS, 2)), velocity[:, :2])
    swing = spec["swing"] * rng.uniform(0.5, 1.2)
    offset = np.where(steps % 2 == 1, swing, 0.0) + rng.normal(0, rng.uniform(0.0, 0.08), hits.shape)
    return DrumPattern(hits, velocity, np.clip(offset, -0.5, 0.5) * hits)


def grammar_patterns(n: int, *, seed: int = 0, styles: tuple[str, ...] | None = None) -> list[DrumPattern]:
    """``n`` patterns spread evenly over ``styles`` (default: all), reproducible from ``seed``."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n={n!r} must be a positive integer")
    names = list(styles or STYLES)
    rng = np.random.default_rng(seed)
    return [style_pattern(names[i % len(names)], rng) for i in range(int(n))]
