"""The WordNet noun reader on a hand-written miniature database, and on the real one when installed."""

import pytest

from latentstudio.errors import AssetMissingError, ParameterError
from latentstudio.zoo.wordnet import WordNet, imagenet_wnids, wordnet_dir

# offset lexfile pos n_words word lex_id ... n_ptrs [ptr offset pos src/tgt]... | gloss
DATA = """  1 This software and database is being provided
00000001 03 n 01 entity 0 000 | that which exists
00000002 03 n 01 animal 0 001 @ 00000001 n 0000 | a living organism
00000003 05 n 02 canine 0 canid 0 001 @ 00000002 n 0000 | a dog-like animal
00000004 05 n 02 dog 0 domestic_dog 0 001 @ 00000003 n 0000 | a domestic canine
00000005 05 n 01 wolf 0 001 @ 00000003 n 0000 | a wild canine
00000006 05 n 01 beagle 0 001 @ 00000004 n 0000 | a small hound
00000007 06 n 01 bow 0 001 @ 00000001 n 0000 | a weapon
00000008 18 n 01 dog 1 001 @ 00000001 n 0000 | a person (slang)
"""
INDEX = """  1 This software and database is being provided
animal n 1 1 @ 1 0 00000002
beagle n 1 1 @ 1 0 00000006
bow n 1 1 @ 1 0 00000007
canine n 1 1 @ 1 0 00000003
dog n 2 1 @ 2 0 00000004 00000008
wolf n 1 1 @ 1 0 00000005
"""


@pytest.fixture()
def mini(tmp_path):
    (tmp_path / "data.noun").write_text(DATA)
    (tmp_path / "index.noun").write_text(INDEX)
    (tmp_path / "noun.exc").write_text("wolves wolf\n")
    return WordNet(tmp_path)


def test_senses_morphology_and_hierarchy(mini):
    assert mini.synsets("dogs") == ["n00000004", "n00000008"]
    assert mini.synsets("wolves") == ["n00000005"] and mini.synsets("cat") == []
    assert mini.name("n00000004") == "dog" and mini.lexname("n00000004") == "animal"
    assert mini.is_a("n00000006", "n00000003") and not mini.is_a("n00000005", "n00000004")
    assert mini.distance("n00000006", "n00000005") == 3          # beagle - dog - canine - wolf
    assert mini.path_similarity("n00000004", "n00000004") == 1.0
    assert mini.wup_similarity("n00000004", "n00000005") > mini.wup_similarity("n00000004", "n00000007")
    with pytest.raises(ParameterError, match="n99"):
        mini.name("n99")


def test_missing_database_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSTUDIO_WORDNET", str(tmp_path))
    monkeypatch.setattr("latentstudio.zoo.wordnet.WORDNET_DIRS", (str(tmp_path / "nowhere"),))
    with pytest.raises(AssetMissingError, match="wordnet-base"):
        wordnet_dir()


def test_imagenet_classes_are_wordnet_synsets():
    ids = imagenet_wnids()
    assert len(ids) == 1000 and len(set(ids)) == 1000 and ids[281] == "n02123045"
    try:
        d = wordnet_dir()
    except AssetMissingError:
        pytest.skip("wordnet-base is not installed")
    from latentstudio.zoo.wordnet import wordnet

    wn = wordnet(str(d))
    assert all(i in wn for i in ids)
    assert wn.is_a(ids[281], wn.synsets("cat")[0])                # tabby cat is a cat
