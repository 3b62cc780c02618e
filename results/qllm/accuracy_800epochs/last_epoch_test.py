"""Post hoc: test accuracy of the LAST-epoch weights (the checkpoint's 'model' state) next to the
best-validation weights that hqsim train reports. Uses the same split/embeddings as the run."""
import json, sys, dataclasses, torch
from pathlib import Path
from hqsim.experiments import data as data_mod
from hqsim.experiments.embeddings import embed
from hqsim.experiments.train import evaluate, _load_state
from hqsim.experiments.runner import slug
from hqsim.models import QLLMClassifier, QLLMConfig
from hqsim.experiments import baselines as bl
torch.set_num_threads(1)
out = Path(sys.argv[1])
d = json.load(open(out / "results.json"))
res = []
for r in d["runs"]:
    if "history" not in r:
        continue
    seed = r["seed"]
    sp = data_mod.make_splits("paper", seed)
    parts = (sp.train, sp.validation, sp.test)
    allx = torch.from_numpy(embed([t for p in parts for t in p.texts], None, None, progress=False))
    a, b = len(sp.train), len(sp.train) + len(sp.validation)
    xtr, xte = allx[:a], allx[b:]
    yte = torch.as_tensor(sp.test.labels)
    if r["kind"] == "hybrid":
        cfg = QLLMConfig(**r["config"])
        model = QLLMClassifier(cfg)
    elif r["model"].startswith("MLP h="):
        model = bl.MLPHead(384, int(r["model"].split("h=")[1].split()[0]), 2)
    else:
        model = bl.ExactParamHead(xtr, r["params"], 2)
    ck = torch.load(out / "checkpoints" / f"{slug(r['model'])}-seed{seed}.pt", weights_only=False, map_location="cpu")
    _load_state(model, ck["model"])
    last_acc, _ = evaluate(model, xte.to(torch.float32), yte)
    _load_state(model, ck["best_state"])
    best_acc, _ = evaluate(model, xte.to(torch.float32), yte)
    h = r["history"]
    row = {"model": r["model"], "seed": seed, "best_epoch": r["best_epoch"], "test_best_val_weights": best_acc,
           "reported_test": r["test_acc"], "test_last_epoch": last_acc, "val_last_epoch": h[-1]["val_acc"],
           "loss_ep20": h[19]["loss"] if len(h) >= 20 else None, "loss_last": h[-1]["loss"],
           "train_acc_last": h[-1]["train_acc"], "max_val": max(x["val_acc"] for x in h)}
    print(json.dumps(row))
    res.append(row)
json.dump(res, open(sys.argv[2], "w"), indent=1)
