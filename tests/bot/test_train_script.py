"""scripts/train.py: which inputs key the model cache, and where the model goes."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.bot.builders import train_script


@pytest.fixture(scope="module")
def train() -> ModuleType:
    return train_script()


def make_repo(root: Path) -> None:
    for path, text in {
        "config.yml": "pipeline: []\n",
        "bot/domain/core.yml": "version: '3.1'\n",
        "bot/nlu/encoder.py": "x = 1\n",
        "bot/__pycache__/encoder.cpython-310.pyc": "compiled",
        "data/nlu/teach.yml": "nlu: []\n",
        "requirements/rasa.txt": "rasa==3.6.21\n",
        "requirements/gateway.txt": "aiohttp\n",
        "handoff/app.py": "app = None\n",
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def test_inputs_are_config_bot_data_and_rasa_requirements(train: ModuleType, tmp_path: Path) -> None:
    make_repo(tmp_path)

    names = [path.relative_to(tmp_path).as_posix() for path in train.input_files(tmp_path)]

    assert names == [
        "bot/domain/core.yml",
        "bot/nlu/encoder.py",
        "config.yml",
        "data/nlu/teach.yml",
        "requirements/rasa.txt",
    ]


def test_hash_changes_with_any_input(train: ModuleType, tmp_path: Path) -> None:
    make_repo(tmp_path)
    before = train.inputs_hash(train.input_files(tmp_path), tmp_path)
    (tmp_path / "handoff" / "app.py").write_text("app = 1\n")
    unchanged = train.inputs_hash(train.input_files(tmp_path), tmp_path)
    (tmp_path / "bot" / "nlu" / "encoder.py").write_text("x = 2\n")
    changed = train.inputs_hash(train.input_files(tmp_path), tmp_path)

    assert before == unchanged != changed


def test_cache_dir_follows_baton_cache(
    train: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATON_CACHE", str(tmp_path))

    assert train.cache_dir() == tmp_path / "models"


def test_place_copies_the_cached_model(train: ModuleType, tmp_path: Path) -> None:
    cached = tmp_path / "cache" / "abc.tar.gz"
    cached.parent.mkdir()
    cached.write_bytes(b"model")
    target = tmp_path / "models" / "baton.tar.gz"

    train.place(cached, target)

    assert target.read_bytes() == b"model"
    assert sorted(p.name for p in target.parent.iterdir()) == ["baton.tar.gz"]


def test_the_learned_examples_key_the_model_wherever_the_file_is(
    train: ModuleType, tmp_path: Path
) -> None:
    make_repo(tmp_path)
    files = train.input_files(tmp_path)
    one, two = tmp_path / "var" / "learned_nlu.yml", tmp_path / "elsewhere" / "taught.yml"
    for path in (one, two):
        path.parent.mkdir(parents=True)
        path.write_text("nlu: []\n")

    alone = train.inputs_hash(files, tmp_path)
    taught = train.inputs_hash(files, tmp_path, learned=one)
    moved = train.inputs_hash(files, tmp_path, learned=two)
    two.write_text("nlu:\n- intent: refund\n")

    assert alone != taught == moved != train.inputs_hash(files, tmp_path, learned=two)


def test_the_learned_file_is_var_s_or_baton_learned_nlu_when_it_has_content(
    train: ModuleType, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    var.mkdir()
    assert train.learned_file({"BATON_VAR_DIR": str(var)}) is None
    (var / "learned_nlu.yml").write_text("")
    assert train.learned_file({"BATON_VAR_DIR": str(var)}) is None  # empty: nothing taught
    (var / "learned_nlu.yml").write_text("nlu: []\n")
    assert train.learned_file({"BATON_VAR_DIR": str(var)}) == var / "learned_nlu.yml"
    given = tmp_path / "given.yml"
    given.write_text("nlu: []\n")
    assert train.learned_file({"BATON_VAR_DIR": str(var), "BATON_LEARNED_NLU": str(given)}) == given
