"""A minimal SoundFont 2 writer: one-shot samples as melodic presets FluidSynth (or any SF2 player) can play.

Each sample becomes its own preset (bank 0, program ``i``) with one instrument zone over every key, played
at its recorded pitch on key 60, unlooped, at full reverb send. The project uses it to put sounds of its own
through a synthesiser's effects, e.g. an impulse through FluidSynth's reverb
(:func:`latentstudio.core.midi.fluidsynth_reverb_ir`).

Example
-------
>>> import numpy as np, tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "click.sf2")
>>> _ = write_sf2(p, [np.r_[1.0, np.zeros(99)]], sr=16000)
>>> open(p, "rb").read(4), open(p, "rb").read(12)[8:]
(b'RIFF', b'sfbk')
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from latentstudio.core.fileio import atomic_path
from latentstudio.errors import ParameterError

#: SF2 generator numbers used here (SoundFont 2.04, section 8.1.2)
_GEN_REVERB_SEND, _GEN_KEY_RANGE, _GEN_INSTRUMENT, _GEN_SAMPLE_ID, _GEN_SAMPLE_MODES = 16, 43, 41, 53, 54
#: Zero samples every sample must be followed by (SoundFont 2.04, 7.10)
_PAD = 46


def _chunk(tag: bytes, data: bytes) -> bytes:
    data += b"\0" * (len(data) % 2)          # every chunk (and INFO string) is of even size, its pad counted
    return tag + struct.pack("<I", len(data)) + data


def _name(s: str) -> bytes:
    return s.encode("ascii", "replace")[:19].ljust(20, b"\0")


def write_sf2(path: str | os.PathLike, samples: list[np.ndarray], *, sr: int, names: list[str] | None = None,
              title: str = "latentstudio") -> Path:
    """Write mono ``samples`` (floats in [-1, 1]) at ``sr`` Hz as an SF2 file, preset ``i`` playing sample ``i``.

    Raises ParameterError for no samples, an empty or non-finite one, or a bad rate. Written atomically.
    """
    if not samples:
        raise ParameterError("write_sf2 needs at least one sample")
    if not isinstance(sr, (int, np.integer)) or not 400 <= sr <= 192000:
        raise ParameterError(f"sr={sr!r} must be an integer sample rate in [400, 192000]")
    names = names or [f"sample{i}" for i in range(len(samples))]
    if len(names) != len(samples):
        raise ParameterError(f"{len(names)} names for {len(samples)} samples")
    pcm, shdr, start = [], b"", 0
    for i, (s, nm) in enumerate(zip(samples, names)):
        s = np.asarray(s, dtype=np.float64)
        if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)):
            raise ParameterError(f"sample {i} ({nm!r}) must be a non-empty finite 1-D array")
        q = np.round(np.clip(s, -1.0, 1.0) * 32767).astype("<i2")
        pcm += [q, np.zeros(_PAD, "<i2")]
        end = start + q.size
        shdr += _name(nm) + struct.pack("<IIIIIBbHH", start, end, start, end, int(sr), 60, 0, 0, 1)
        start = end + _PAD
    shdr += _name("EOS") + struct.pack("<IIIIIBbHH", 0, 0, 0, 0, 0, 0, 0, 0, 0)
    n = len(samples)
    # one preset per sample -> one instrument per sample -> one zone playing it over all keys
    phdr = b"".join(_name(nm) + struct.pack("<HHHIII", i, 0, i, 0, 0, 0) for i, nm in enumerate(names))
    phdr += _name("EOP") + struct.pack("<HHHIII", 0, 0, n, 0, 0, 0)
    pbag = b"".join(struct.pack("<HH", i, 0) for i in range(n + 1))
    pgen = b"".join(struct.pack("<HH", _GEN_INSTRUMENT, i) for i in range(n)) + struct.pack("<HH", 0, 0)
    inst = b"".join(_name(nm) + struct.pack("<H", i) for i, nm in enumerate(names)) + _name("EOI") + struct.pack("<H", n)
    ibag = b"".join(struct.pack("<HH", 4 * i, 0) for i in range(n + 1))
    igen = b"".join(struct.pack("<HBB", _GEN_KEY_RANGE, 0, 127) + struct.pack("<Hh", _GEN_REVERB_SEND, 1000)
                    + struct.pack("<Hh", _GEN_SAMPLE_MODES, 0) + struct.pack("<HH", _GEN_SAMPLE_ID, i)
                    for i in range(n)) + struct.pack("<HH", 0, 0)
    mod_end = b"\0" * 10
    info = _chunk(b"ifil", struct.pack("<HH", 2, 1)) + _chunk(b"isng", b"EMU8000\0") + _chunk(b"INAM", title.encode("ascii", "replace") + b"\0")
    sdta = _chunk(b"smpl", np.concatenate(pcm).tobytes())
    pdta = b"".join(_chunk(t, d) for t, d in ((b"phdr", phdr), (b"pbag", pbag), (b"pmod", mod_end), (b"pgen", pgen),
                                             (b"inst", inst), (b"ibag", ibag), (b"imod", mod_end), (b"igen", igen),
                                             (b"shdr", shdr)))
    body = b"sfbk" + _chunk(b"LIST", b"INFO" + info) + _chunk(b"LIST", b"sdta" + sdta) + _chunk(b"LIST", b"pdta" + pdta)
    p = Path(path)
    with atomic_path(p) as tmp:
        Path(tmp).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return p


__all__ = ["write_sf2"]
