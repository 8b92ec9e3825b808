#!/usr/bin/env python3
"""Train the small character-level model shipped in lstmviz/resources/models/ (the 'brackets' preset).

The script makes its own training text: lines of made-up words with nested round brackets
(depth 0..4) and "quoted phrases", ending with '.' and a newline, for example

    qe xolv (ba (ruzt kam) ip) "ne sof" tala, wim (o).

The model is one LSTM layer (n units) plus a linear read-out, trained to predict the next
character. The grammar makes the count of open brackets matter for the next character: ')'
can only follow while a bracket is open, '(' only below depth 4, and a line can only end
('.') at depth 0. So the network has to count, and one unit's cell state ends up tracking
the bracket depth; the script finds it by correlation on held-out text run through lstmviz
itself (NumPy), and writes what it found to lstmviz/resources/models/bracket.info.json.

    .venv/bin/python scripts/train_bracket_model.py            # about 1.5 minutes, one core
    .venv/bin/python scripts/train_bracket_model.py --steps 300 --out /tmp/m   # a quick try

Writes to --out (default lstmviz/resources/models/):
    bracket.npz         the LSTM cell in lstmviz's native format (W_i .. b_o), NumPy-only to load
    bracket.vocab.json  the characters, column j of the one-hot input = chars[j]
    bracket.head.npz    the read-out (W_out (m, n), b_out (m,)): next-character logits from h
    bracket.info.json   training settings, results, and the units that track depth and quotes
    bracket.sample.txt  a sample text for the preset
Needs torch (pip install torch==2.13.0); the shipped files do not.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LETTERS = "abcdefghijklmnopqrstuvwxyz"
CHARS = "\n" + ' "(),.' + LETTERS
UNKNOWN = " "
MAX_DEPTH = 4

SAMPLE = (
    "we saw a cat (it sat on a mat (a red one)) and left.\n"
    'she said "look at this" and then (after a while (quite a long while (really))) ran home.\n'
    "f (g (h (i (j)))) k, l (m) n.\n"
    'it was (as they say "odd") but (we think (on the whole)) fine.\n'
)


def generate(rng: np.random.Generator, n_chars: int):
    """Text of whole lines, at least n_chars long; returns (text, depth, in_quote, line_starts),
    depth[t] and in_quote[t] being the state after reading character t."""
    out: list[str] = []
    depth_out: list[int] = []
    quote_out: list[int] = []
    starts: list[int] = []
    state = {"depth": 0, "quote": 0}

    def emit(chars: str) -> None:
        for ch in chars:
            if ch == "(":
                state["depth"] += 1
            elif ch == ")":
                state["depth"] -= 1
            elif ch == '"':
                state["quote"] ^= 1
            out.append(ch)
            depth_out.append(state["depth"])
            quote_out.append(state["quote"])

    def word() -> str:
        size = int(rng.integers(1, 7))
        return "".join(LETTERS[j] for j in rng.integers(0, 26, size))

    while len(out) < n_chars:
        starts.append(len(out))
        emit(word())
        items = 1
        while True:
            if state["quote"]:
                if rng.random() < 0.35:
                    emit('"')
                else:
                    emit(" " + word())
                continue
            options = [("word", 1.0), ("quote", 0.12), ("comma", 0.08)]
            if state["depth"] < MAX_DEPTH:
                options.append(("open", 0.45))
            if state["depth"] > 0:
                options.append(("close", 0.35 + 0.1 * state["depth"]))
            if state["depth"] == 0 and items >= 4:
                options.append(("end", 0.25))
            weights = np.array([w for _, w in options])
            choice = options[int(rng.choice(len(options), p=weights / weights.sum()))][0]
            if choice == "end":
                emit(".\n")
                break
            items += 1
            if choice == "word":
                emit(" " + word())
            elif choice == "open":
                emit(" (" + word())
            elif choice == "close":
                emit(")")
            elif choice == "quote":
                emit(' "' + word())
            else:
                emit(", " + word())
    return "".join(out), np.array(depth_out), np.array(quote_out), np.array(starts)


def depths_of(text: str) -> tuple[np.ndarray, np.ndarray]:
    depth, quote, d, q = [], [], 0, 0
    for ch in text:
        d += ch == "("
        d -= ch == ")"
        q ^= ch == '"'
        depth.append(d)
        quote.append(q)
    return np.array(depth), np.array(quote)


def correlations(values: np.ndarray, target: np.ndarray) -> np.ndarray:
    v = values - values.mean(axis=0)
    t = target - target.mean()
    denom = np.sqrt((v * v).sum(axis=0) * (t * t).sum())
    return np.divide(v.T @ t, denom, out=np.zeros(v.shape[1]), where=denom > 0)


def train(args) -> dict:
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    index = {c: j for j, c in enumerate(CHARS)}
    m, n = len(CHARS), args.units
    text, _, _, starts = generate(rng, args.corpus)
    ids = np.array([index[c] for c in text], dtype=np.int64)
    starts = starts[starts + args.length + 1 <= len(ids)]

    lstm = torch.nn.LSTM(m, n, batch_first=True)
    head = torch.nn.Linear(n, m)
    with torch.no_grad():  # start with forget gates open: memories last from the beginning
        lstm.bias_ih_l0[n : 2 * n].fill_(1.0)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps, eta_min=args.lr / 20)
    eye = torch.eye(m)
    began = time.perf_counter()
    history = []
    for it in range(args.steps):
        pick = starts[rng.integers(0, len(starts), args.batch)]
        rows = np.stack([ids[s : s + args.length + 1] for s in pick])
        batch = torch.from_numpy(rows)
        x = eye[batch[:, :-1]]
        y = batch[:, 1:]
        h, _ = lstm(x)
        loss = torch.nn.functional.cross_entropy(head(h).reshape(-1, m), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        history.append(loss.item())
        if (it + 1) % 100 == 0:
            print(f"step {it + 1:5d}  loss {np.mean(history[-100:]):.4f}  "
                  f"{time.perf_counter() - began:6.1f} s", flush=True)
    seconds = time.perf_counter() - began

    arrays = {}
    w_ih, w_hh = lstm.weight_ih_l0.detach().double().numpy(), lstm.weight_hh_l0.detach().double().numpy()
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().double().numpy()
    for j, gate in enumerate("ifgo"):  # PyTorch's gate order
        rows = slice(j * n, (j + 1) * n)
        arrays.update({f"W_{gate}": w_ih[rows], f"U_{gate}": w_hh[rows], f"b_{gate}": b[rows]})
    return {
        "arrays": arrays,
        "head": {
            "W_out": head.weight.detach().double().numpy(),
            "b_out": head.bias.detach().double().numpy(),
        },
        "seconds": seconds,
        "final_loss": float(np.mean(history[-100:])),
    }


def analyse(arrays: dict, head: dict, seed: int) -> dict:
    """Run held-out text through lstmviz (NumPy only) and find the depth and quote units."""
    from lstmviz.core.cell import run
    from lstmviz.core.params import LSTMParams
    from lstmviz.core.text import Vocabulary

    params = LSTMParams(**arrays)
    vocab = Vocabulary(tuple(CHARS), unknown=UNKNOWN)
    text, depth, quote, _ = generate(np.random.default_rng(seed + 1), 20_000)
    trace = run(params, vocab.encode(text))
    logits = trace.h @ head["W_out"].T + head["b_out"]
    predicted = np.argmax(logits[:-1], axis=1)
    accuracy = float(np.mean(predicted == vocab.indices(text)[1:]))
    # structure characters only: after a word, is the next one ')' '.' '(' ... right?
    nxt = vocab.indices(text)[1:]
    structural = np.isin(nxt, [vocab.index(c) for c in '().\n"'])
    result = {"heldout_chars": len(text), "next_char_accuracy": accuracy,
              "structural_accuracy": float(np.mean(predicted[structural] == nxt[structural]))}
    for name, target in (("depth", depth.astype(float)), ("quote", quote.astype(float))):
        best = {}
        for quantity in ("c", "h"):
            r = correlations(trace.quantity(quantity), target)
            k = int(np.argmax(np.abs(r)))
            best[quantity] = (k, float(r[k]))
            result[f"{name}_corr_{quantity}"] = [round(float(v), 4) for v in r]
        k, r = best["c"]
        result[f"{name}_unit"] = k
        result[f"{name}_corr"] = round(r, 4)
        result[f"{name}_corr_h_best"] = {"unit": best["h"][0], "r": round(best["h"][1], 4)}
    # The depth unit's cell state at each depth (mean over held-out characters).
    k = result["depth_unit"]
    result["depth_unit_mean_c_by_depth"] = [
        round(float(trace.c[depth == d, k].mean()), 4) for d in range(MAX_DEPTH + 1)
    ]
    sample_depth, _ = depths_of(SAMPLE)
    sample_trace = run(params, vocab.encode(SAMPLE))
    sample_r = correlations(sample_trace.c[:, [k]], sample_depth.astype(float))[0]
    result["sample_corr"] = round(float(sample_r), 4)
    return result


def flip_units(arrays: dict, head: dict, units) -> tuple[dict, dict]:
    """The same network with the sign of some units' c and h flipped (an exact symmetry: tanh is
    odd). Row k of W_g, U_g, b_g and column k of every U and of the read-out change sign, so
    c_k -> -c_k, h_k -> -h_k, and every gate and every prediction stays the same. Used so that
    the depth unit counts up (+1 per open bracket) rather than down, which reads more easily."""
    n = arrays["b_i"].shape[0]
    sign = np.ones(n)
    sign[list(units)] = -1.0
    out = {key: value.copy() for key, value in arrays.items()}
    for gate in "ifgo":
        out[f"U_{gate}"] *= sign[None, :]
    out["W_g"] *= sign[:, None]
    out["U_g"] *= sign[:, None]
    out["b_g"] *= sign
    head = {"W_out": head["W_out"] * sign[None, :], "b_out": head["b_out"].copy()}
    return out, head


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "lstmviz" / "resources" / "models")
    parser.add_argument("--units", type=int, default=16)
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=160)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--corpus", type=int, default=400_000, help="characters of generated training text")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    from lstmviz.core.params import LSTMParams
    from lstmviz.core.text import Vocabulary
    from lstmviz.io.npz import write_npz_model

    began = time.perf_counter()
    trained = train(args)
    info = analyse(trained["arrays"], trained["head"], args.seed)
    flips = [info["depth_unit"]] if info["depth_corr"] < 0 else []
    if info["quote_corr"] < 0 and info["quote_unit"] != info["depth_unit"]:
        flips = sorted([*flips, info["quote_unit"]])
    if flips:
        arrays, head = flip_units(trained["arrays"], trained["head"], flips)
        check = np.random.default_rng(0).normal(size=(50, len(CHARS)))
        from lstmviz.core.cell import run

        before = run(LSTMParams(**trained["arrays"]), check).h @ trained["head"]["W_out"].T
        after = run(LSTMParams(**arrays), check).h @ head["W_out"].T
        assert np.abs(before - after).max() < 1e-9, "flipping units must not change the predictions"
        trained.update(arrays=arrays, head=head)
        info = analyse(arrays, head, args.seed)
    info["flipped_units"] = flips
    args.out.mkdir(parents=True, exist_ok=True)
    params = LSTMParams(**trained["arrays"])
    write_npz_model(params, args.out / "bracket.npz")
    np.savez(args.out / "bracket.head.npz", **trained["head"])
    from lstmviz.io.vocabulary import save_vocabulary

    save_vocabulary(Vocabulary(tuple(CHARS), unknown=UNKNOWN), args.out / "bracket.vocab.json")
    (args.out / "bracket.sample.txt").write_text(SAMPLE, encoding="utf-8")
    info = {
        "task": "next character of generated text with nested round brackets (depth <= 4) and quotes",
        "units": args.units, "inputs": len(CHARS),
        "training": {k: getattr(args, k) for k in ("steps", "batch", "length", "lr", "corpus", "seed")},
        "training_seconds": round(trained["seconds"], 1),
        "final_loss": round(trained["final_loss"], 4),
        **info,
    }
    (args.out / "bracket.info.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(f"trained in {trained['seconds']:.0f} s (all done in {time.perf_counter() - began:.0f} s); "
          f"next-char accuracy {info['next_char_accuracy']:.3f}, "
          f"structural {info['structural_accuracy']:.3f}")
    print(f"depth unit {info['depth_unit']} (c, r = {info['depth_corr']}); "
          f"quote unit {info['quote_unit']} (c, r = {info['quote_corr']}); "
          f"mean c by depth {info['depth_unit_mean_c_by_depth']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
