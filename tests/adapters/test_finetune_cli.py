"""`hqsim finetune` end to end on the tiny BERT directory: every method and seed in
results.json, the table and plots written, resume repeats nothing, bad options get clear errors."""
import json

import pytest

from hqsim.cli import main

from .conftest import sentences

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("scipy")

POSITIVE = {"good", "great", "fun", "funny", "loved", "best"}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rows = [(s, int(bool(POSITIVE & set(s.split())))) for s in sentences(200, seed=11)]
    path = tmp_path_factory.mktemp("data") / "tiny.tsv"
    path.write_text("sentence\tlabel\n" + "\n".join(f"{s}\t{y}" for s, y in rows) + "\n")
    return path


def _argv(tiny_dir, data_file, out, *extra):
    return ["finetune", "--encoder", str(tiny_dir), "--data", str(data_file), "--per-label", "8",
            "--max-test", "40", "--steps", "2", "--seeds", "0", "1", "--out", str(out), "--no-progress",
            "--cache-dir", str(out.parent / "cache"), "--qtha-qubits", "2", "--qtha-layers", "1",
            "--mpo-cores", "2", "--qpa-rank", "2", "--qpa-chunk", "8", "--qpa-layers", "1",
            "--qpa-hidden", "4", "--quanta-axes", "2", *extra]


def test_finetune_cli_every_method(tiny_dir, data_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    argv = _argv(tiny_dir, data_file, out, "--method", "qtha", "qpa", "quanta", "lora", "full", "head",
                 "--lora-rank", "1", "2", "--lr", "0.01", "full=0.001", "--save-adapters")
    monkeypatch.setattr("sys.argv", ["hqsim", *argv])
    assert main(argv) == 0
    data = json.loads((out / "results.json").read_text())
    assert data["meta"]["split_sizes"] == {"train": 14, "validation": 2, "test": 40}
    runs = data["runs"]
    assert sorted({r["method"] for r in runs}) == ["full", "head", "lora", "qpa", "qtha", "quanta"]
    assert len(runs) == 2 * 7 and {r["seed"] for r in runs} == {0, 1}
    by = {(r["model"], r["seed"]): r for r in runs}
    assert by[("LoRA r=2", 0)]["trainable_params"] == 4 * 2 * (12 + 12) + 12 * 2 + 2
    assert by[("frozen + head", 1)]["trainable_params"] == 12 * 2 + 2
    assert by[("LoRA r=1", 0)]["lr"] == 0.01 and by[("full fine-tuning", 0)]["lr"] == 0.001
    # no --head-lr: every method's head trains at the method's own rate, in one Adam group
    assert all(r["head_lr"] == r["lr"] for r in runs) and data["meta"]["head_lr_option"] is None
    groups = torch.load(out / "checkpoints" / "LoRA_r=1-seed0.pt", weights_only=False)["optimizer"]["param_groups"]
    assert [g["lr"] for g in groups] == [0.01]
    for r in runs:
        assert 0 <= r["test_acc"] <= 1 and r["steps"] == 2 and r["epochs_run"] == 2
        assert (r["tokens_per_s"] is None) == (r["method"] == "head")
    table = (out / "results.md").read_text()
    assert "| 95 % CI |" in table and "| QTHA Q=2 L=1 χ=2 | 2 |" in table
    assert "classifier head at each method's own learning rate (no --head-lr)" in table
    assert ("| method | seeds | test acc % (mean ± std) | 95 % CI | val acc % | trainable params | steps | "
            "wall s | s/step | tokens/s | lr (head lr) |") in table
    assert "| QTHA Q=2 L=1 χ=2 | LoRA r=1 | 2 |" in table  # paired differences against every LoRA rank
    for png in ("curves.png", "accuracy_vs_params.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list((out / "adapters").glob("*.pt"))) == 14
    assert "QPA" in capsys.readouterr().out
    # resume: every (method, seed) is done, nothing is trained again
    mtime = (out / "checkpoints").stat().st_mtime
    monkeypatch.setattr("sys.argv", ["hqsim", *argv, "--resume"])
    assert main(argv + ["--resume"]) == 0
    again = json.loads((out / "results.json").read_text())["runs"]
    assert [r["test_acc"] for r in again] == [r["test_acc"] for r in runs]
    assert (out / "checkpoints").stat().st_mtime == mtime
    assert (out / "command.txt").read_text().splitlines()[1].startswith("# resumed ")


def test_interrupted_run_resumes_to_the_same_result(tiny_dir, data_file, tmp_path, monkeypatch, capsys):
    """A run stopped after its first epoch and resumed ends where an uninterrupted run ends."""
    from hqsim.experiments import finetune
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    common = ("--method", "qtha", "--seeds", "0")
    assert main(_argv(tiny_dir, data_file, whole, *common)) == 0
    real_fit = finetune.fit

    def stop_after_one_epoch(*args, **kwargs):
        def interrupt(epoch, rec):
            kwargs_cb(epoch, rec)
            raise KeyboardInterrupt
        kwargs_cb = kwargs["on_epoch_end"]
        return real_fit(*args, **{**kwargs, "on_epoch_end": interrupt})
    monkeypatch.setattr(finetune, "fit", stop_after_one_epoch)
    assert main(_argv(tiny_dir, data_file, parts, *common)) == 130
    monkeypatch.setattr(finetune, "fit", real_fit)
    assert main(_argv(tiny_dir, data_file, parts, *common, "--resume")) == 0
    a = json.loads((whole / "results.json").read_text())["runs"]
    b = json.loads((parts / "results.json").read_text())["runs"]
    assert [(r["model"], r["seed"], r["test_acc"], r["val_acc"]) for r in a] == \
           [(r["model"], r["seed"], r["test_acc"], r["val_acc"]) for r in b]
    assert [h["loss"] for h in a[0]["history"]] == [h["loss"] for h in b[0]["history"]]
    # resuming with another option is refused, naming the difference; a new run there needs --force-new
    changed = _argv(tiny_dir, data_file, parts, *common, "--resume")
    changed[changed.index("--steps") + 1] = "3"
    assert main(changed) == 2
    assert "finetune.steps: 2 → 3" in capsys.readouterr().err
    assert main(_argv(tiny_dir, data_file, parts, *common)) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_head_lr_sets_every_methods_head(tiny_dir, data_file, tmp_path, capsys):
    """--head-lr: the head's parameters form their own Adam group at that rate (the encoder's
    LoRA weights keep --lr), head-only trains at it; recorded in results.json and the table."""
    out = tmp_path / "headlr"
    argv = _argv(tiny_dir, data_file, out, "--method", "lora", "head", "--lora-rank", "1", "--seeds", "0",
                 "--lr", "0.002", "--head-lr", "0.03")
    argv.remove("--no-progress")
    capsys.readouterr()
    assert main(argv) == 0
    bars = capsys.readouterr().err  # progress bars (tqdm, on stderr): one per run, epochs as units
    assert "LoRA r=1 seed 0: 100%" in bars and "frozen + head seed 0: 100%" in bars and "2/2" in bars
    ck = torch.load(out / "checkpoints" / "LoRA_r=1-seed0.pt", weights_only=False)
    groups = ck["optimizer"]["param_groups"]
    assert [g["lr"] for g in groups] == [0.002, 0.03]
    assert [len(g["params"]) for g in groups] == [2 * 4, 2]  # LoRA A, B of 4 layers; head weight, bias
    assert ck["train_config"]["lr_groups"] == {"head.": 0.03}
    head = torch.load(out / "checkpoints" / "frozen_head-seed0.pt", weights_only=False)
    assert [g["lr"] for g in head["optimizer"]["param_groups"]] == [0.03]
    data = json.loads((out / "results.json").read_text())
    assert {(r["method"], r["lr"], r["head_lr"]) for r in data["runs"]} == {("lora", 0.002, 0.03),
                                                                            ("head", 0.03, 0.03)}
    assert data["meta"]["head_lr_option"] == 0.03
    table = (out / "results.md").read_text()
    assert "classifier head at 0.03 for every method (--head-lr)" in table and "| 0.002 (0.03) |" in table
    # resuming with another head rate is refused (it is part of the run's configuration)
    again = argv + ["--resume"]
    again[again.index("--head-lr") + 1] = "0.01"
    assert main(again) == 2
    assert "head_lr: 0.03 → 0.01" in capsys.readouterr().err
    assert main(argv[:-2] + ["--lr", "head=0.1", "--head-lr", "0.01"]) == 2
    assert "both set the head-only run's rate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["finetune", "--head-lr", "0"])
    assert "argument --head-lr: must be > 0" in capsys.readouterr().err


def test_few_shot_sizes_share_the_test_set(tiny_dir, data_file, tmp_path):
    out = tmp_path / "few"
    argv = _argv(tiny_dir, data_file, out, "--method", "lora", "head", "--seeds", "0")
    argv[argv.index("--per-label") + 1] = "4,8"
    assert main(argv) == 0
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert sorted(r["model"] for r in runs) == ["LoRA r=4 [4/label]", "LoRA r=4 [8/label]",
                                                "frozen + head [4/label]", "frozen + head [8/label]"]
    assert {r["per_label"] for r in runs} == {4, 8}
    table = (out / "results.md").read_text()
    assert "| LoRA r=4 [4/label] | 1 |" in table and "Few-shot curve" in table
    assert (out / "few_shot.png").exists()


def test_finetune_cli_errors(tiny_dir, data_file, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["finetune", "--method", "prompt-tuning"])
    assert "invalid choice: 'prompt-tuning'" in capsys.readouterr().err
    assert main(["finetune", "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err
    argv = _argv(tiny_dir, data_file, tmp_path / "a", "--method", "qtha", "--target-modules", "qkv")
    assert main(argv) == 2
    assert "target_modules ('qkv',) matched no module" in capsys.readouterr().err
    argv = _argv(tiny_dir, data_file, tmp_path / "b", "--method", "qtha")
    argv[argv.index("--qtha-qubits") + 1] = "20"
    assert main(argv) == 2
    assert "qtha qubits=20 exceeds the width".lower() in capsys.readouterr().err.lower()
    with pytest.raises(SystemExit):
        main(["finetune", "--lr", "dora=0.1"])
    assert "unknown method 'dora'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["finetune", "--seeds", "-1"])
    assert "argument --seeds" in capsys.readouterr().err
    assert main(["finetune", "--encoder", str(tmp_path / "nowhere"), "--out", str(tmp_path / "c")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_data_options_of_hqsim_train_reach_the_finetune_config(tmp_path):
    from hqsim.cli import build_parser
    from hqsim.experiments.finetune_cli import finetune_config
    args = build_parser().parse_args(["finetune", "--data", str(tmp_path / "d.csv"), "--text-column", "review",
                                      "--label-column", "stars", "--protocol", "standard", "--seeds", "3", "4",
                                      "--method", "qtha", "quanta", "--lora-rank", "1", "8"])
    cfg = finetune_config(args)
    assert cfg.load_options["text_column"] == "review" and cfg.load_options["label_column"] == "stars"
    assert cfg.protocol == "standard" and cfg.seeds == (3, 4) and cfg.data_files == (str(tmp_path / "d.csv"),)
    assert [m.method for m in cfg.methods] == ["qtha", "quanta"] and cfg.head_lr is None


def test_main_size_runs_on_every_seed_before_the_few_shot_sizes():
    from hqsim.experiments.finetune import run_order
    assert run_order((16, 64, 256), (0, 1)) == [(256, 0), (256, 1), (64, 0), (16, 0), (64, 1), (16, 1)]
    assert run_order((256,), (3, 1)) == [(256, 3), (256, 1)]


def test_default_run_tests_on_a_subsample():
    from hqsim.cli import build_parser
    from hqsim.experiments.finetune_cli import DEFAULT_MAX_TEST
    assert build_parser().parse_args(["finetune"]).max_test == DEFAULT_MAX_TEST
    assert build_parser().parse_args(["finetune", "--max-test", "9"]).max_test == 9
    assert build_parser().parse_args(["train"]).max_test is None  # hqsim train keeps its whole test set
