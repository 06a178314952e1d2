import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.latent.data import load_data
from latentstudio.latent.training import load_film, load_vae, snapshot_schedule, train_vae
from latentstudio.latent.vae import ImageVAE, TextVAE, vae_loss


def test_snapshot_schedule_is_dense_first():
    s = snapshot_schedule(200, 20)
    assert s[0] == 0 and s[-1] == 200 and s[:3] == [0, 2, 4]
    assert 60 in s and 62 not in s


@pytest.fixture(scope="module")
def trained(tmp_path_factory, topics_csv_module):
    d = tmp_path_factory.mktemp("vae")
    data = load_data(topics_csv_module)
    run = train_vae(data, d / "model", steps=150, batch_size=32, hidden=32, lr=5e-3, warmup=30, snapshot_every=30,
                    label_weight=0.0, seed=0)
    return data, run


def test_unsupervised_text_vae_learns_and_clusters(trained):
    data, run = trained
    # reconstruction nats per text fall (9 words of ~40: uniform 33, the topics' own words ~24)
    assert np.mean(run.losses[-20:]) < np.mean(run.losses[:5]) - 1.0
    # the topics use their own words: even without the label head they fall apart into clusters
    assert run.silhouette["final"] > run.silhouette["first"] + 0.2
    assert run.silhouette["final_test"] > 0.2


def test_film_files(trained):
    data, run = trained
    film = load_film(run.output)
    train_n = int((data.split == "train").sum())
    assert film.snapshots.shape == (len(run.snapshot_steps), train_n, 2)
    assert list(film.steps) == run.snapshot_steps
    assert film.label_names == data.label_names and film.meta["silhouette"]["final"] == run.silhouette["final"]
    # the first snapshot is the untrained encoder, the last the trained one
    assert np.allclose(film.snapshots[-1], film.snapshots[-1])
    assert not np.allclose(film.snapshots[0], film.snapshots[-1], atol=1e-2)


def test_reloaded_model_reads_new_texts(trained):
    data, run = trained
    vae = load_vae(run.output)
    assert isinstance(vae, TextVAE)
    z = vae.embed(vae.texts_to_input(["wave tide ocean", "flame ember smoke"]))
    assert z.shape == (2, 2) and torch.isfinite(z).all()
    final = np.asarray(load_film(run.output).snapshots[-1], dtype=np.float32)
    labels = data.labels[data.split == "train"]
    centres = np.stack([final[labels == k].mean(0) for k in range(3)])
    sea, fire = data.label_names.index("sea"), data.label_names.index("fire")
    assert np.argmin(np.linalg.norm(centres - z[0].numpy(), axis=1)) == sea
    assert np.argmin(np.linalg.norm(centres - z[1].numpy(), axis=1)) == fire


def test_resume_reuses_snapshots(tmp_path, topics_csv):
    data = load_data(topics_csv)
    kw = dict(steps=40, batch_size=16, hidden=16, snapshot_every=20, seed=1, checkpoint_dir=tmp_path / "ck")
    a = train_vae(data, tmp_path / "a", **kw)
    film_a = np.array(load_film(tmp_path / "a").snapshots)
    b = train_vae(data, tmp_path / "a", **kw)                # everything done: resumes at the end
    assert a.snapshot_steps == b.snapshot_steps and b.silhouette == a.silhouette
    assert np.array_equal(np.array(load_film(tmp_path / "a").snapshots), film_a)


def test_label_head_is_used_when_weighted():
    torch.manual_seed(0)
    vae = TextVAE(vocabulary=[f"w{i}" for i in range(20)], latent_dim=2, hidden=16, n_labels=3)
    x = torch.rand(8, 20)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    _, with_head = vae_loss(vae, x, x, labels=y, label_weight=1.0)
    _, without = vae_loss(vae, x, x, labels=y, label_weight=0.0)
    assert "ce" in with_head and "ce" not in without


def test_image_vae_shapes_and_geometry_map():
    vae = ImageVAE(channels=1, size=28, latent_dim=2, width=8)
    x = torch.rand(4, 1, 28, 28)
    mu, logvar, logits = vae(x)
    assert mu.shape == (4, 2) and logits.shape == (4, 1, 28, 28)
    g = vae.geometry_map(torch.zeros(3, 2))
    # 2 [sqrt(p), sqrt(1-p)] lies on a sphere of radius 2 per pixel
    assert g.shape == (3, 2 * 28 * 28)
    per_pixel = g[:, :784] ** 2 + g[:, 784:] ** 2
    assert torch.allclose(per_pixel, torch.full_like(per_pixel, 4.0), atol=1e-5)


def test_bad_training_parameters(topics_csv, tmp_path):
    data = load_data(topics_csv)
    with pytest.raises(ParameterError, match="steps"):
        train_vae(data, tmp_path / "x", steps=0)
    with pytest.raises(ParameterError, match="label_weight"):
        train_vae(data, tmp_path / "x", steps=2, label_weight=-1)
    with pytest.raises(ParameterError, match="latent_dim"):
        TextVAE(vocabulary=["a", "b"], latent_dim=0)
    with pytest.raises(ParameterError, match="no snapshots"):
        load_film(tmp_path)


def test_image_vae_trains_on_a_folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:16, 0:16]
    shapes = {"bars": (xx % 4 < 2), "rings": (np.hypot(xx - 7.5, yy - 7.5) % 5 < 2), "dots": (xx > 8) & (yy > 8)}
    for name, mask in shapes.items():
        (tmp_path / name).mkdir()
        for i in range(30):
            img = np.clip(mask * 200 + rng.normal(30, 25, mask.shape), 0, 255).astype(np.uint8)
            Image.fromarray(np.roll(img, rng.integers(-2, 3), axis=1)).convert("RGB").save(tmp_path / name / f"{i}.png")
    data = load_data(tmp_path, image_size=16)
    run = train_vae(data, tmp_path / "vae", steps=80, batch_size=16, hidden=64, lr=3e-3, warmup=10,
                    snapshot_every=20, label_weight=0.0, seed=0)
    assert isinstance(run.model, ImageVAE) and run.model.channels == 3 and run.model.size == 16
    assert np.mean(run.losses[-10:]) < 0.9 * np.mean(run.losses[:3])
    assert run.silhouette["final"] > run.silhouette["first"]
    assert load_film(tmp_path / "vae").snapshots.shape[2] == 2
