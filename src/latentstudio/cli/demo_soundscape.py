"""Gallery section: photographs from the offline sample images and the sounds they evoke."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

from latentstudio.cli.demo import DemoSection

#: Sample photographs shown (names of ``assets.sample_image``).
PHOTOS = ("chelsea", "coffee", "horse", "motorcycle", "rocket", "china")


def section(outdir: Path, *, seed: int) -> DemoSection:
    """Index the Tux Paint sounds with the shipped student, query a few photos, render 8 s soundscapes."""
    import torch

    from latentstudio import assets
    from latentstudio.catalog import Catalog
    from latentstudio.core.image import load, save as save_image
    from latentstudio.provenance import write_sidecar
    from latentstudio.soundscape.index import index_sounds
    from latentstudio.soundscape.pipeline import soundscape_for_image, source_sounds
    from latentstudio.soundscape.student import load_student
    from latentstudio.soundscape.teacher import Teacher

    torch.set_num_threads(1)                     # the student is small: one thread is fastest
    out = outdir / "soundscape"
    out.mkdir(parents=True, exist_ok=True)
    model, info = load_student()
    teacher = Teacher.of_student(model)
    rows = []
    with tempfile.TemporaryDirectory(prefix="soundscape-demo-") as tmp, Catalog(tmp) as cat:
        report = index_sounds(source_sounds("tuxpaint"), catalog=cat, model=model, model_id=info["id"])
        for name in PHOTOS:
            scape = soundscape_for_image(load(assets.sample_image(name)), model=model, model_id=info["id"],
                                         catalog=cat, teacher=teacher, top=5, headings=1, seconds=8.0, sr=22050,
                                         seed=seed)
            thumb = save_image(out / f"{name}.jpg", load(assets.sample_image(name), size=240))
            wav = scape.save(out / f"{name}.ogg", params={"photo": name, "seconds": 8}, command="demo soundscape")
            write_sidecar(thumb, command="demo soundscape", seed=seed, params={"photo": name})
            rows.append((name, thumb.name, wav.name, scape.query))
    cells = []
    for name, thumb, wav, res in rows:
        labels = ", ".join(html.escape(lab) for lab, _ in res.teacher_labels[:2])
        sounds_txt = "<br>".join(f"{html.escape(Path(m.path).stem)} <span class='t'>{m.score:.2f}</span>"
                                 for m in res.matches)
        cells.append(f"<figure><img src='soundscape/{thumb}' alt='{name}'><figcaption><b>{name}</b> — teacher: "
                     f"{labels}<br><audio controls src='soundscape/{wav}'></audio><br>{sounds_txt}"
                     f"</figcaption></figure>")
    intro = (f"<p>A spectrogram CNN distilled from EfficientNet-Lite0 on the Tux Paint stamps' own sounds "
             f"(model <code>{info['id']}</code>) embedded {len(report.added)} sounds at "
             f"{report.realtime_factor:.0f}x real time; each photo's teacher distribution picks its top sounds, "
             f"layered into an 8 s soundscape (loops, levels by score, stereo spread).</p>")
    return DemoSection("Imaginary Soundscapes", intro + "".join(cells))
