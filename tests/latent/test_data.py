import numpy as np
import pytest

from latentstudio.errors import ParameterError
from latentstudio.latent.data import content_hash, load_data, read_csv_texts, split_of
from latentstudio.latent.text import build_vocabulary, counts, tfidf, tokenize


def test_cfpb_columns_are_found_by_name(topics_csv):
    texts, labels = read_csv_texts(topics_csv)
    assert len(texts) == 180 and set(labels) == {"sea", "fire", "forest"}


def test_csv_with_other_columns_names_them(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(ParameterError, match="text_column"):
        read_csv_texts(p)
    texts, labels = read_csv_texts(p, text_column="a", label_column="b")
    assert texts == ["1"] and labels == ["2"]


def test_load_data_dedupes_and_splits_by_content(topics_csv, tmp_path):
    data = load_data(topics_csv)
    assert data.kind == "text" and data.label_names[0] in ("sea", "fire", "forest")
    hashes = [content_hash(t) for t in data.items]
    assert len(set(hashes)) == len(hashes)                          # duplicates removed
    assert all(split_of(h) == s for h, s in zip(hashes, data.split))
    assert set(data.split) <= {"train", "validation", "test"} and (data.split == "train").mean() > 0.6
    # the same text, cased and spaced differently, is one item
    assert content_hash("The  Cat") == content_hash("the cat")


def test_max_classes_keeps_the_largest(topics_csv):
    data = load_data(topics_csv, max_classes=2)
    assert len(data.label_names) == 2 and data.labels.max() == 1


def test_image_folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(tmp_path / label / f"{i}.png")
    (tmp_path / "a" / "broken.png").write_bytes(b"not a png")
    data = load_data(tmp_path, image_size=16)
    assert data.kind == "image" and data.items.shape == (6, 3, 16, 16)
    assert 0 <= data.items.min() and data.items.max() <= 1


def test_bad_sources_raise(tmp_path):
    with pytest.raises(ParameterError, match="neither"):
        load_data(tmp_path / "nothing.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="no images"):
        load_data(tmp_path / "empty")


def test_vocabulary_and_tfidf():
    texts = ["The cat sat on the mat", "a cat ran far", "dogs ran far away", "cat cat cat"]
    assert tokenize("The Cat's 2 hats!") == ["cat's", "hats"]
    vocab = build_vocabulary(texts, min_df=1, max_df=1.0, max_words=4)
    assert vocab.words[0] == "cat" and len(vocab) == 4
    x = tfidf(texts, vocab).toarray()
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0)
    c = counts(["cat cat dog"], vocab).toarray()
    assert c[0, vocab.index["cat"]] == 2
    with pytest.raises(ParameterError, match="min_df"):
        build_vocabulary(texts, min_df=10)
