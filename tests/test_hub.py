"""A release folder is what the Hub reads: huggingface_hub parses its card's metadata, and `datasets` finds its configs.
(`DatasetCard.validate` asks the Hub over the network, so it cannot run here.)"""

import pytest
from datasets import get_dataset_config_names, load_dataset
from huggingface_hub import DatasetCard, DatasetCardData

from conftest import REPO

CONFIGS = ["documents", "ner", "articles", "annotations"]


@pytest.fixture(params=["releases/v1.1.0", "a release built now"])
def release(request):
    """The committed v1.1.0 and a release of today's builder (v1.0.0's card predates `size_categories`)."""
    if request.param.startswith("releases/"):
        return REPO / request.param
    return request.getfixturevalue("gum_release")[1]


def test_huggingface_hub_reads_the_cards_metadata_the_hub_shows(release):
    card = DatasetCard.load(release / "README.md")
    assert isinstance(card.data, DatasetCardData)
    assert [config["config_name"] for config in card.data.configs] == CONFIGS
    assert [config.get("default", False) for config in card.data.configs] == [True, False, False, False]
    for config in card.data.configs:
        for data_files in config["data_files"]:
            assert list(release.glob(data_files["path"])), data_files
    assert [info["config_name"] for info in card.data.dataset_info] == CONFIGS
    assert all(info["features"] and info["splits"] for info in card.data.dataset_info)
    assert card.data.license and card.data.language == ["en"]
    assert card.data.task_categories == ["token-classification", "text-classification"]
    assert card.data.size_categories == ["n<1K"]
    assert card.text.lstrip().startswith("# Dataset Card for newscorpus")


def test_datasets_lists_the_four_configs_and_loads_each_as_the_card_says(tmp_path):
    release = REPO / "releases" / "v1.1.0"
    assert get_dataset_config_names(str(release)) == CONFIGS
    card = DatasetCard.load(release / "README.md")
    for info in card.data.dataset_info:
        loaded = load_dataset(str(release), info["config_name"], cache_dir=str(tmp_path))
        assert {split: len(rows) for split, rows in loaded.items()} == {s["name"]: s["num_examples"] for s in info["splits"]}
