"""MIDI in and out: note sequences, General MIDI drums, and rendering through FluidSynth.

Rendering uses the ``fluidsynth`` program with a General MIDI soundfont (Debian's
``fluid-soundfont-gm``) offline and with reverb and chorus off, so that note onsets in the MIDI are
ground truth for the audio (beats, downbeats, drum onsets), each sounding 1-2 of FluidSynth's 64-sample
blocks after its MIDI time (:func:`render_midi`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from latentstudio.core.fileio import atomic_path
from latentstudio.errors import AssetMissingError, ParameterError

#: General MIDI percussion key numbers (channel 10) of the common drum voices.
GM_DRUMS: dict[str, int] = {
    "kick": 36, "side_stick": 37, "snare": 38, "clap": 39, "snare_electric": 40,
    "low_floor_tom": 41, "closed_hat": 42, "high_floor_tom": 43, "pedal_hat": 44, "low_tom": 45,
    "open_hat": 46, "low_mid_tom": 47, "hi_mid_tom": 48, "crash": 49, "high_tom": 50, "ride": 51,
    "china": 52, "ride_bell": 53, "tambourine": 54, "splash": 55, "cowbell": 56, "crash2": 57,
}

_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2")


def default_soundfont() -> Path:
    """The General MIDI soundfont (``fluid-soundfont-gm``), or AssetMissingError naming the package."""
    env = os.environ.get("LATENTSTUDIO_SOUNDFONT")
    for cand in ([env] if env else []) + list(_SOUNDFONTS):
        if cand and Path(cand).is_file():
            return Path(cand)
    raise AssetMissingError("no General MIDI soundfont found; install it: apt-get install fluid-soundfont-gm "
                            "(or set LATENTSTUDIO_SOUNDFONT)")


def fluidsynth_binary() -> str:
    """Path of the ``fluidsynth`` program, or AssetMissingError naming the package."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise AssetMissingError("the fluidsynth program is missing; install it: apt-get install fluidsynth")
    return exe


def _as_pretty_midi(midi):
    import pretty_midi

    if isinstance(midi, pretty_midi.PrettyMIDI):
        return midi
    if isinstance(midi, (str, os.PathLike)):
        p = Path(midi)
        if not p.is_file() or p.stat().st_size == 0:
            raise ParameterError(f"MIDI file {str(p)!r} does not exist or is empty")
        try:
            return pretty_midi.PrettyMIDI(str(p))
        except Exception as exc:
            raise ParameterError(f"MIDI file {str(p)!r} cannot be read ({exc})") from None
    raise ParameterError(f"midi must be a PrettyMIDI object or a path, got {type(midi).__name__}")


def read_midi(path: str | os.PathLike):
    """Read a MIDI file as a ``pretty_midi.PrettyMIDI`` (ParameterError when unreadable)."""
    return _as_pretty_midi(path)


def write_midi(path: str | os.PathLike, midi) -> Path:
    """Write a ``PrettyMIDI`` atomically to ``path`` (.mid)."""
    p = Path(path)
    if p.suffix.lower() not in (".mid", ".midi"):
        raise ParameterError(f"MIDI output {str(p)!r} must end with .mid or .midi")
    with atomic_path(p) as tmp:
        midi.write(str(tmp))
    return p


def _check_soundfont(sf2: Path) -> None:
    """ParameterError unless ``sf2`` starts as a SoundFont 2 file does: FluidSynth given anything else renders
    silence, or falls back to its default soundfont, and still exits 0."""
    with open(sf2, "rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise ParameterError(f"soundfont {str(sf2)!r} is not a SoundFont 2 file")


def _check_fluidsynth(proc, wav: Path, sf2: Path) -> None:
    """ParameterError when FluidSynth failed, or could not load ``sf2`` (it then plays on with its default
    soundfont, or silence, and still exits 0)."""
    if "Failed to load SoundFont" in proc.stderr:
        raise ParameterError(f"fluidsynth cannot load the soundfont {str(sf2)!r} ({proc.stderr.strip()[:200]})")
    if proc.returncode != 0 or not wav.exists():
        raise ParameterError(f"fluidsynth failed on the MIDI ({proc.stderr.strip()[:200]})")


def _fluidsynth(pm, sf2: Path, *, sr: int, gain: float, reverb: dict[str, float] | None,
                dtype: str = "float32") -> tuple[np.ndarray, int]:
    """Render ``pm`` with the ``fluidsynth`` program and ``sf2`` (chorus off; its reverb with these
    ``synth.reverb.*`` settings, or off for None): the channels' mean and the file's sample rate."""
    import soundfile as sf

    exe = fluidsynth_binary()
    with tempfile.TemporaryDirectory(prefix="ls-midi-") as td:
        mid, wav = Path(td) / "in.mid", Path(td) / "out.wav"
        pm.write(str(mid))
        rev = (["-R", "1", *(x for k, v in reverb.items() for x in ("-o", f"synth.reverb.{k}={float(v)}"))]
               if reverb else ["-R", "0"])
        cmd = [exe, "-ni", "-q", *rev, "-C", "0", "-g", str(gain), "-r", str(int(sr)),
               "-F", str(wav), "-T", "wav", "-O", "float", str(sf2), str(mid)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        _check_fluidsynth(proc, wav, sf2)
        data, file_sr = sf.read(str(wav), dtype=dtype, always_2d=True)
    return data.mean(axis=1), file_sr


#: How late FluidSynth's file renderer starts a note, in its 64-sample blocks: between these (measured with a
#: click, tests/core/test_sf2.py)
FLUIDSYNTH_LAG_BLOCKS = (1, 2)


def render_midi(midi, *, sr: int = 22050, soundfont: str | os.PathLike | None = None,
                gain: float = 0.5, tail: float = 1.0, reverb: float = 0.0) -> np.ndarray:
    """Render MIDI to mono float32 audio at ``sr`` with FluidSynth (chorus off; reverb off unless asked).

    Parameters
    ----------
    midi : ``pretty_midi.PrettyMIDI`` or a path to a .mid file
    sr : output sample rate in Hz
    soundfont : .sf2 file (default: the General MIDI soundfont from ``fluid-soundfont-gm``)
    gain : FluidSynth master gain
    tail : seconds kept after the last note ends (release tails); the output is cut there
    reverb : FluidSynth's reverb room size in (0, 1] (level 0.9), or 0 for none

    Returns
    -------
    y : (n,) float32; sample 0 is MIDI time 0. FluidSynth starts each note on a 64-sample block boundary
        1-2 blocks after its MIDI time (:data:`FLUIDSYNTH_LAG_BLOCKS`): notes sound 2.9-5.8 ms late at
        22.05 kHz, 4-8 ms at 16 kHz, a bias every truth taken from the MIDI shares (beats, onsets).

    Example
    -------
    >>> import pretty_midi
    >>> pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    >>> drums = pretty_midi.Instrument(program=0, is_drum=True)
    >>> drums.notes.append(pretty_midi.Note(velocity=100, pitch=36, start=0.0, end=0.1))
    >>> pm.instruments.append(drums)
    >>> y = render_midi(pm, sr=16000)                  # doctest: +SKIP
    """
    pm = _as_pretty_midi(midi)
    if not isinstance(sr, (int, np.integer)) or sr < 8000:
        raise ParameterError(f"sr={sr!r} must be an integer >= 8000")
    sf2 = Path(soundfont) if soundfont is not None else default_soundfont()
    if not sf2.is_file():
        raise ParameterError(f"soundfont {str(sf2)!r} does not exist")
    if not 0.0 <= float(reverb) <= 1.0:
        raise ParameterError(f"reverb={reverb!r} must be a room size in [0, 1]")
    _check_soundfont(sf2)
    end = pm.get_end_time() + max(0.0, tail)
    y, file_sr = _fluidsynth(pm, sf2, sr=int(sr), gain=gain,
                             reverb={"room-size": reverb, "level": 0.9} if reverb > 0 else None)
    if file_sr != sr:
        from latentstudio.core.audio import resample

        y = resample(y, orig_sr=file_sr, target_sr=int(sr))
    n = int(round(end * sr))
    if y.shape[0] < n:
        y = np.pad(y, (0, n - y.shape[0]))
    return np.ascontiguousarray(y[:n], dtype=np.float32)


def fluidsynth_reverb_ir(room: float, *, damp: float = 0.3, sr: int = 16000, seconds: float = 2.5,
                         offset: float = 0.0) -> np.ndarray:
    """The impulse response of FluidSynth's reverb at room size ``room`` in (0, 1] and damping ``damp`` in
    [0, 1], measured at ``sr``: a one-sample click (in a soundfont written by :func:`latentstudio.core.sf2.write_sf2`)
    played ``offset`` seconds into a render with the reverb and without, the wet part (their difference)
    divided by the click's dry peak. ``(seconds * sr,)`` float32, sample 0 the dry click's peak. The reverb's delay
    lines are modulated, so clicks at other ``offset`` give slightly different responses.

    Raises ParameterError for values out of range, AssetMissingError without the ``fluidsynth`` program.
    """
    import pretty_midi

    from latentstudio.core.sf2 import write_sf2

    if not 0.0 < float(room) <= 1.0 or not 0.0 <= float(damp) <= 1.0 or seconds <= 0 or offset < 0:
        raise ParameterError(f"fluidsynth_reverb_ir: room={room!r} in (0, 1], damp={damp!r} in [0, 1], "
                             f"seconds={seconds!r} > 0 and offset={offset!r} >= 0 are needed")
    click = np.zeros(256)
    click[64] = 1.0                  # after the voice's 1 ms attack: a click at the sample's start is silenced
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    inst.control_changes.append(pretty_midi.ControlChange(91, 127, 0.0))
    inst.control_changes.append(pretty_midi.ControlChange(7, 127, 0.0))
    t0 = 0.1 + float(offset)
    inst.notes.append(pretty_midi.Note(127, 60, t0, t0 + 0.01))
    # FluidSynth stops rendering ~2 s after the last MIDI event: an event past the wanted length keeps the tail
    inst.control_changes.append(pretty_midi.ControlChange(7, 127, t0 + float(seconds) + 0.1))
    pm.instruments.append(inst)
    with tempfile.TemporaryDirectory(prefix="ls-ir-") as td:
        sf2 = write_sf2(Path(td) / "click.sf2", [click], sr=int(sr), names=["click"])
        renders = [_fluidsynth(pm, sf2, sr=int(sr), gain=1.0, dtype="float64", reverb=rev)[0]
                   for rev in ({"room-size": room, "damp": damp, "level": 1.0}, None)]
    n = max(len(r) for r in renders)
    wet_y, dry_y = (np.pad(r, (0, n - len(r))) for r in renders)
    peak = float(np.max(np.abs(dry_y)))
    if peak <= 0:
        raise ParameterError("fluidsynth played the click silently; its reverb cannot be measured")
    start = int(np.argmax(np.abs(dry_y)))
    ir = (wet_y - dry_y)[start:start + int(seconds * sr)] / peak
    return np.pad(ir, (0, int(seconds * sr) - len(ir))).astype(np.float32)


#: MIDI synthesisers besides the default soundfont: name -> (engine, file, Debian packages). ``fluidsynth``
#: plays an .sf2, ``timidity`` a configuration of GUS patches. Each is a different set of recorded or
#: synthesised instruments, so sources rendered by different synthesisers are different origins.
SYNTHS: dict[str, tuple[str, str, str]] = {
    "fluidr3": ("fluidsynth", "/usr/share/sounds/sf2/FluidR3_GM.sf2", "fluid-soundfont-gm"),
    "opl3": ("fluidsynth", "/usr/share/sounds/sf2/OPL-3_FM_128M.sf2", "opl3-soundfont"),
    "freepats": ("timidity", "/etc/timidity/freepats.cfg", "freepats timidity"),
    "csound": ("fluidsynth", "/usr/share/sounds/sf2/sf_GMbank.sf2", "csound-soundfont"),
}


def render_synth(midi, synth: str, *, sr: int = 22050, tail: float = 1.0, dry: bool = False) -> np.ndarray:
    """Render MIDI with one of :data:`SYNTHS` (mono float32 at ``sr``; sample 0 is MIDI time 0).

    ``dry`` turns TiMidity's own reverb and chorus off (FluidSynth renders dry anyway).
    Raises ParameterError for an unknown name, AssetMissingError naming the package when it is not installed.
    """
    if synth not in SYNTHS:
        raise ParameterError(f"synth={synth!r} must be one of {', '.join(sorted(SYNTHS))}")
    engine, path, package = SYNTHS[synth]
    if not Path(path).is_file():
        raise AssetMissingError(f"synth {synth!r} needs {path}; install it: apt-get install {package} (make data)")
    if engine == "fluidsynth":
        return render_midi(midi, sr=sr, soundfont=path, tail=tail)
    return render_timidity(midi, sr=sr, cfg=path, tail=tail, dry=dry)


def render_timidity(midi, *, sr: int = 22050, cfg: str | os.PathLike, tail: float = 1.0,
                    dry: bool = False) -> np.ndarray:
    """Render MIDI with TiMidity++ and the GUS patch configuration ``cfg`` (mono float32 at ``sr``)."""
    import soundfile as sf

    pm = _as_pretty_midi(midi)
    exe = shutil.which("timidity")
    if exe is None:
        raise AssetMissingError("the timidity program is missing; install it: apt-get install timidity")
    end = pm.get_end_time() + max(0.0, tail)
    with tempfile.TemporaryDirectory(prefix="ls-timidity-") as td:
        mid, wav = Path(td) / "in.mid", Path(td) / "out.wav"
        pm.write(str(mid))
        effects = ["-EFreverb=0", "-EFchorus=0"] if dry else []
        proc = subprocess.run([exe, "-c", str(cfg), "-Ow", "--preserve-silence", "--output-mono", *effects,
                               "-s", str(int(sr)), "-o", str(wav), str(mid)], capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not wav.is_file():
            raise ParameterError(f"timidity failed on the MIDI ({proc.stderr.strip()[:200]})")
        y, _ = sf.read(str(wav), dtype="float32")
    if y.ndim == 2:
        y = y.mean(axis=1)
    n = int(round(end * sr))
    return np.pad(y, (0, max(0, n - len(y))))[:n].astype(np.float32)
