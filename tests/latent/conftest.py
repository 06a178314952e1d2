"""Tiny labelled data for the latent-space tests: texts whose topics use their own words."""

import csv

import numpy as np
import pytest

TOPICS = {
    "sea": "wave tide shore salt ocean coral reef boat sail harbour whale foam current anchor",
    "fire": "flame ember smoke ash blaze spark heat burn torch coal furnace glow char kindle",
    "forest": "tree leaf moss root bark branch fern pine oak canopy acorn trail owl timber",
}
SHARED = "the quiet morning light over everything bright dark small large long old"


def topic_texts(n_per: int = 60, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    shared = SHARED.split()
    texts, labels = [], []
    for label, words in TOPICS.items():
        w = words.split()
        for _ in range(n_per):
            picks = list(rng.choice(w, size=6)) + list(rng.choice(shared, size=3))
            rng.shuffle(picks)
            texts.append(" ".join(picks))
            labels.append(label)
    return texts, labels


def write_topics_csv(folder):
    texts, labels = topic_texts()
    path = folder / "topics.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Date received", "Product", "Consumer complaint narrative"])
        for t, lab in zip(texts, labels):
            w.writerow(["2018-01-01", lab, t])
    return path


@pytest.fixture
def topics_csv(tmp_path):
    return write_topics_csv(tmp_path)


@pytest.fixture(scope="module")
def topics_csv_module(tmp_path_factory):
    return write_topics_csv(tmp_path_factory.mktemp("topics"))
