"""The tree-sitter runtime rebuilt with PGO (analyzer/build_parser_pgo.py): its training sample, its stamp,
and that run.sh installed it (on the CI machines, where a silent fallback to the wheel would only show
as a slower index)."""

from __future__ import annotations

import json

from conftest import require_real
from lima.analyzer import build_parser_pgo as pgo
from lima.analyzer.cli import parser_hint


def test_training_sample_is_every_20th_file_in_path_order(tmp_path, monkeypatch):
    for i in range(45):
        (tmp_path / f"f{i:02d}.c").write_bytes(b"int x;\n" * 10)
    (tmp_path / "notes.txt").write_text("not C")
    assert [p.name for p in pgo.training_files(tmp_path)] == ["f00.c", "f20.c", "f40.c"]
    monkeypatch.setattr(pgo, "TRAIN_BYTES", 100)  # each file is 70 bytes: the second one reaches the cap
    assert [p.name for p in pgo.training_files(tmp_path)] == ["f00.c", "f20.c"]


def test_stamp_counts_only_for_the_binding_it_was_written_for(tmp_path, monkeypatch):
    binding = tmp_path / "_binding.cpython-311-x86_64-linux-gnu.so"
    binding.write_bytes(b"optimized")
    monkeypatch.setattr(pgo, "_binding", lambda: binding)
    assert pgo.installed_build() is None
    assert pgo.describe() == "tree-sitter wheel from PyPI"
    stamp = {"version": "0.25.2", "cflags": pgo.CFLAGS, "binding": pgo._digest(binding),
             "trained_on": "3 files of /src"}
    (tmp_path / "lima-pgo.json").write_text(json.dumps(stamp))
    assert pgo.installed_build() == stamp
    assert pgo.describe() == ("tree-sitter 0.25.2 built here with PGO "
                              f"({pgo.CFLAGS}, trained on 3 files of /src)")
    binding.write_bytes(b"the wheel again")  # pip reinstalled tree-sitter: the stamp is stale
    assert pgo.installed_build() is None


def test_train_must_be_a_directory(tmp_path, capsys):
    assert pgo.main(["--train", str(tmp_path / "missing")]) == 1
    assert "not a directory" in capsys.readouterr().err


def test_run_sh_installed_the_pgo_build():
    if pgo.installed_build() is None:
        require_real("tree-sitter is the PyPI wheel: run.sh's build_parser_pgo did not install its build")
    stamp = pgo.installed_build()
    assert stamp["version"] == "0.25.2" and stamp["training_bytes"] > 10_000_000
    import tree_sitter
    import tree_sitter_c
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))
    tree = parser.parse(b"int f(void) { return g(1); }")
    assert "call_expression" in str(tree.root_node) and not tree.root_node.has_error


def test_lima_index_tells_how_to_build_the_faster_parser_after_a_big_run_with_the_wheel():
    assert parser_hint(50_000_000, "tree-sitter wheel from PyPI") is None  # a small run: no note
    hint = parser_hint(1_177_000_000, "tree-sitter wheel from PyPI")
    assert hint.startswith("note: 1,177 MB parsed with tree-sitter's PyPI wheel")
    assert "python -m lima.analyzer.build_parser_pgo --train SRC" in hint
    assert parser_hint(1_177_000_000, "tree-sitter 0.25.2 built here with PGO (-O3)") is None
