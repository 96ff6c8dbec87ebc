#!/usr/bin/env python3
"""Reference fixtures for the candle port, made with fair-esm itself.

Builds tiny random-weight ESM-1b and ESM-2 models with fair-esm's own classes, saves them in the
official on-disk formats (fair-esm `.pt` with fairseq key names plus the separate
`-contact-regression.pt`, and Hugging Face `EsmForMaskedLM` folders), loads them back through
fair-esm's own loader (`esm.pretrained.load_model_and_alphabet_local`) and records its outputs
(logits, every layer's representations, attention maps, contacts) for a handful of inputs.

    python3 -m venv .venv && .venv/bin/pip install -r tests/reference/requirements.txt
    .venv/bin/python tests/reference/make_fixtures.py                 # -> tests/fixtures/
    .venv/bin/python tests/reference/make_fixtures.py --full-esm1b DIR  # 652M random ESM-1b (2.4 GiB), outside the repo
    .venv/bin/python tests/reference/make_fixtures.py --full-esm1b DIR --training-state  # + fairseq's Adam state (7.3 GiB)
    .venv/bin/python tests/reference/make_fixtures.py --only-fairseq   # just tests/fixtures/esm1b_tiny_t2_fairseq.pt
    .venv/bin/python tests/reference/make_fixtures.py --only-heads     # just tests/fixtures/*.heads.safetensors
    .venv/bin/python tests/reference/make_fixtures.py --only-variants  # just tests/fixtures/variants.reference.json (predict.py arithmetic)

LayerNorm weights and biases are perturbed away from (1, 0) so that a wrong LayerNorm is caught.
"""
import argparse
import json
import shutil
from pathlib import Path

import torch
import esm
from safetensors.torch import save_file

torch.serialization.add_safe_globals([argparse.Namespace])  # fair-esm's loader on torch >= 2.6

SEQUENCES = {
    "basic": ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWUAEGLPRDLTTEDS"[:60]],
    "single_residue": ["A"],
    "rare_residues": ["MXBZUOACDEKLX"],
    "masked": ["MKT<mask>YIAK<mask>RQISFVK"],
    "batch": [
        "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ",
        "A",
        "MXBZUOACDEKLX",
        "GSHMKT<mask>YIAKQ",
    ],
}


def perturb(model, seed):
    """Random weights everywhere, LayerNorms far from identity, non-zero LM bias."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name or "layernorm" in name.lower():
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embed" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)


def save_fair_esm(model, top, path, key_prefix):
    """Writes `top` + {"model": fairseq-named state} and the separate contact regression file."""
    state, regression = {}, {}
    for k, v in model.state_dict().items():
        if k.startswith("contact_head."):
            regression[k] = v
        elif k.startswith("lm_head."):
            state["encoder." + k] = v
        else:
            state[key_prefix + k] = v
    torch.save({**top, "model": state, "extra_state": {"epoch": 3}, "optimizer_history": [{"num_updates": 0}]}, path)
    torch.save({"model": regression}, str(path.with_suffix("")) + "-contact-regression.pt")


def build_esm1b(out, layers=2, dim=32, ffn=64, heads=4, max_positions=64, emb_ln_before=True, seed=0, name="esm1b_tiny_t2"):
    args = argparse.Namespace(
        arch="roberta_large", layers=layers, embed_dim=dim, ffn_embed_dim=ffn, attention_heads=heads,
        max_positions=max_positions, token_dropout=True, emb_layer_norm_before=emb_ln_before,
    )
    alphabet = esm.Alphabet.from_architecture("ESM-1b")
    model = esm.ProteinBertModel(args, alphabet)
    perturb(model, seed)
    # fairseq's own hyperparameter names, as in the released checkpoints
    file_args = argparse.Namespace(
        arch="roberta_large", encoder_layers=layers, encoder_embed_dim=dim, encoder_ffn_embed_dim=ffn,
        encoder_attention_heads=heads, max_positions=max_positions, token_dropout=True, dropout=0.1,
        attention_dropout=0.1, activation_fn="gelu", task="masked_lm",
    )
    state_model = model
    if not emb_ln_before:
        state_model = model  # the module simply has no emb_layer_norm_before
    path = out / f"{name}.pt"
    save_fair_esm(state_model, {"args": file_args}, path, "encoder.sentence_encoder.")
    return path


def build_esm2(out, layers=2, dim=32, heads=4, seed=1, name="esm2_tiny_t2"):
    alphabet = esm.Alphabet.from_architecture("ESM-1b")
    model = esm.ESM2(num_layers=layers, embed_dim=dim, attention_heads=heads, alphabet=alphabet, token_dropout=True)
    perturb(model, seed)
    cfg = {"model": argparse.Namespace(encoder_layers=layers, encoder_embed_dim=dim, encoder_attention_heads=heads,
                                       token_dropout=True, _name="esm2")}
    path = out / f"{name}.pt"
    save_fair_esm(model, {"cfg": cfg}, path, "encoder.sentence_encoder.")
    return path


def add_fairseq_training_state(src, dst, seed=3):
    """Copies the checkpoint `src` to `dst` with what fairseq also stores in its checkpoints (the
    official esm1b_t33_650M_UR50S.pt is ~7 GB for this reason): `optimizer_history`,
    `extra_state` and `last_optimizer_state`, Adam's two moments for every
    parameter keyed by parameter index, about twice the model's size."""
    ckpt = torch.load(str(src), map_location="cpu", weights_only=False)
    g = torch.Generator().manual_seed(seed)
    params = list(ckpt["model"].values())
    ckpt["last_optimizer_state"] = {
        "state": {i: {"step": 1000, "exp_avg": 1e-3 * torch.randn(p.shape, generator=g),
                      "exp_avg_sq": 1e-6 * torch.rand(p.shape, generator=g)} for i, p in enumerate(params)},
        "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.98), "eps": 1e-8, "weight_decay": 0.01,
                          "params": list(range(len(params)))}],
    }
    ckpt["optimizer_history"] = [{"criterion_name": "MaskedLmLoss", "optimizer_name": "FairseqAdam",
                                  "lr_scheduler_state": {"best": 2.41}, "num_updates": 1000}]
    ckpt["extra_state"] = {"epoch": 3, "batch_offset": 0, "val_loss": 2.41,
                           "train_iterator": {"epoch": 3, "iterations_in_epoch": 0, "shuffle": True},
                           "previous_training_time": 1234.5}
    torch.save(ckpt, str(dst))
    del ckpt, params
    regression = Path(str(src.with_suffix("")) + "-contact-regression.pt")
    shutil.copy(regression, str(dst.with_suffix("")) + "-contact-regression.pt")
    return dst


def reference_outputs(pt_path, out_file):
    model, alphabet = esm.pretrained.load_model_and_alphabet_local(str(pt_path))
    model.eval()
    convert = alphabet.get_batch_converter()
    n = model.num_layers if hasattr(model, "num_layers") else model.args.layers
    tensors = {}
    with torch.no_grad():
        for case, seqs in SEQUENCES.items():
            _, _, tokens = convert([(f"{case}{i}", s) for i, s in enumerate(seqs)])
            r = model(tokens, repr_layers=list(range(n + 1)), return_contacts=True)
            tensors[f"{case}.tokens"] = tokens.to(torch.int64)
            tensors[f"{case}.logits"] = r["logits"]
            for layer, rep in r["representations"].items():
                tensors[f"{case}.repr.{layer}"] = rep
            tensors[f"{case}.attentions"] = r["attentions"]
            tensors[f"{case}.contacts"] = r["contacts"]
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(out_file),
              metadata={"sequences": json.dumps(SEQUENCES), "fair_esm": "2.0.0", "torch": torch.__version__})
    return model, alphabet, tensors


def head_reference(pt_path, out_file):
    """Every head's symmetrised, APC-corrected attention map, exactly as fair-esm's
    ContactPredictionHead computes its regression's input (esm/modules.py @ 2.0.0), and its
    contact probabilities: `{case}.apc` (batch, layers * heads, L, L), `{case}.contacts`."""
    from esm.modules import apc, symmetrize
    model, alphabet = esm.pretrained.load_model_and_alphabet_local(str(pt_path))
    model.eval()
    convert = alphabet.get_batch_converter()
    tensors = {}
    with torch.no_grad():
        for case in ("basic", "batch"):
            seqs = SEQUENCES[case]
            _, _, tokens = convert([(f"{case}{i}", s) for i, s in enumerate(seqs)])
            r = model(tokens, need_head_weights=True, return_contacts=True)
            attentions = r["attentions"]
            eos_mask = tokens.ne(alphabet.eos_idx).to(attentions)
            eos_mask = eos_mask.unsqueeze(1) * eos_mask.unsqueeze(2)
            attentions = (attentions * eos_mask[:, None, None, :, :])[..., :-1, :-1][..., 1:, 1:]
            b, layers, heads, length, _ = attentions.size()
            tensors[f"{case}.apc"] = apc(symmetrize(attentions.reshape(b, layers * heads, length, length)))
            tensors[f"{case}.contacts"] = r["contacts"]
            tensors[f"{case}.tokens"] = tokens.to(torch.int64)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(out_file),
              metadata={"sequences": json.dumps({c: SEQUENCES[c] for c in ("basic", "batch")}),
                        "fair_esm": "2.0.0", "torch": torch.__version__})


def save_huggingface(model, fair_path, out_dir, arch):
    """Converts the fair-esm model to transformers' EsmForMaskedLM (as convert_esm.py does)."""
    from transformers import EsmConfig, EsmForMaskedLM
    esm1b = arch == "esm1b"
    n, dim = len(model.layers), model.embed_tokens.embedding_dim
    heads = model.layers[0].self_attn.num_heads
    ffn = model.layers[0].fc1.out_features
    config = EsmConfig(
        vocab_size=33, mask_token_id=32, pad_token_id=1, hidden_size=dim, num_hidden_layers=n,
        num_attention_heads=heads, intermediate_size=ffn, hidden_act="gelu", layer_norm_eps=1e-5,
        max_position_embeddings=(model.embed_positions.weight.shape[0] if esm1b else 1026),
        position_embedding_type="absolute" if esm1b else "rotary", token_dropout=True,
        emb_layer_norm_before=bool(esm1b and model.emb_layer_norm_before is not None),
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    hf = EsmForMaskedLM(config).eval()
    e = hf.esm
    with torch.no_grad():
        e.embeddings.word_embeddings.weight.copy_(model.embed_tokens.weight)
        if esm1b:
            e.embeddings.position_embeddings.weight.copy_(model.embed_positions.weight)
            if model.emb_layer_norm_before is not None:
                e.embeddings.layer_norm.load_state_dict(model.emb_layer_norm_before.state_dict())
        for hl, fl in zip(e.encoder.layer, model.layers):
            hl.attention.self.query.load_state_dict(fl.self_attn.q_proj.state_dict())
            hl.attention.self.key.load_state_dict(fl.self_attn.k_proj.state_dict())
            hl.attention.self.value.load_state_dict(fl.self_attn.v_proj.state_dict())
            hl.attention.output.dense.load_state_dict(fl.self_attn.out_proj.state_dict())
            hl.attention.LayerNorm.load_state_dict(fl.self_attn_layer_norm.state_dict())
            hl.intermediate.dense.load_state_dict(fl.fc1.state_dict())
            hl.output.dense.load_state_dict(fl.fc2.state_dict())
            hl.LayerNorm.load_state_dict(fl.final_layer_norm.state_dict())
        e.encoder.emb_layer_norm_after.load_state_dict(model.emb_layer_norm_after.state_dict())
        e.contact_head.regression.load_state_dict(model.contact_head.regression.state_dict())
        hf.lm_head.dense.load_state_dict(model.lm_head.dense.state_dict())
        hf.lm_head.layer_norm.load_state_dict(model.lm_head.layer_norm.state_dict())
        hf.lm_head.decoder.weight.copy_(model.lm_head.weight)
        hf.lm_head.bias.copy_(model.lm_head.bias)
    out_dir.mkdir(parents=True, exist_ok=True)
    hf.save_pretrained(str(out_dir), safe_serialization=True)
    for junk in ["generation_config.json"]:
        (out_dir / junk).unlink(missing_ok=True)
    return hf


def check_hf_matches(hf, tensors, case="basic"):
    tokens = tensors[f"{case}.tokens"]
    with torch.no_grad():
        logits = hf(input_ids=tokens, attention_mask=(tokens != 1)).logits
    diff = (logits - tensors[f"{case}.logits"]).abs().max().item()
    assert diff < 1e-4, f"HF conversion disagrees with fair-esm: {diff}"
    return diff


def full_esm1b(out_dir, training_state=False):
    """A 652M-parameter random ESM-1b in the official format (emb_layer_norm_before on, as in
    the released model), plus reference outputs; optionally a copy with fairseq's training state."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = build_esm1b(out_dir, layers=33, dim=1280, ffn=5120, heads=20, max_positions=1024,
                       emb_ln_before=True, seed=7, name="esm1b_t33_650M_UR50S_random")
    model, _, _ = reference_outputs(path, out_dir / "esm1b_t33_650M_UR50S_random.reference.safetensors")
    print(path, sum(p.numel() for p in model.parameters()), "parameters")
    del model
    if training_state:
        print(add_fairseq_training_state(path, out_dir / "esm1b_t33_650M_UR50S_random_fairseq.pt"))


VARIANT_CASE = {
    # A 40-residue wild type numbered from 5 (predict.py's --offset-idx 5), single and multi
    # mutants; the tiny ESM-1b fixture takes 62 residues, so one window holds it.
    "sequence": "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRV",
    "offset": 5,
    "variants": ["M5A", "K6R", "T7W", "Y9F:I10L", "Q13E", "S17P:F18Y:V19A", "V44G", "R43K"],
}


def variant_reference(pt_path):
    """fair-esm's examples/variant-prediction/predict.py arithmetic on a fixture model: the
    wt-marginals and masked-marginals log-probability tables (every position, the 20 amino
    acids) and each variant's score by the three strategies (pseudo-ppl summed over every
    position of the mutated sequence, multi-mutants mutated together)."""
    model, alphabet = esm.pretrained.load_model_and_alphabet_local(str(pt_path))
    model.eval()
    convert = alphabet.get_batch_converter()
    seq, offset = VARIANT_CASE["sequence"], VARIANT_CASE["offset"]
    aas = "ACDEFGHIKLMNPQRSTVWY"
    _, _, tokens = convert([("wt", seq)])
    with torch.no_grad():
        wt_probs = torch.log_softmax(model(tokens)["logits"], dim=-1)
        masked = []
        for i in range(tokens.size(1)):
            copy = tokens.clone()
            copy[0, i] = alphabet.mask_idx
            masked.append(torch.log_softmax(model(copy)["logits"], dim=-1)[:, i])
        masked_probs = torch.cat(masked, dim=0).unsqueeze(0)

        def label(probs, variant):
            score = 0.0
            for m in variant.split(":"):
                wt, idx, mt = m[0], int(m[1:-1]) - offset, m[-1]
                assert seq[idx] == wt
                score += (probs[0, 1 + idx, alphabet.get_idx(mt)] - probs[0, 1 + idx, alphabet.get_idx(wt)]).item()
            return score

        def pppl(variant):
            mutated = list(seq)
            for m in variant.split(":"):
                mutated[int(m[1:-1]) - offset] = m[-1]
            _, _, toks = convert([("mt", "".join(mutated))])
            total = 0.0
            for i in range(1, toks.size(1) - 1):
                copy = toks.clone()
                copy[0, i] = alphabet.mask_idx
                lp = torch.log_softmax(model(copy)["logits"], dim=-1)
                total += lp[0, i, toks[0, i]].item()
            return total

        table = lambda probs: [[probs[0, 1 + i, alphabet.get_idx(a)].item() for a in aas] for i in range(len(seq))]
        return {
            "wt-marginals": [label(wt_probs, v) for v in VARIANT_CASE["variants"]],
            "masked-marginals": [label(masked_probs, v) for v in VARIANT_CASE["variants"]],
            "pseudo-ppl": [pppl(v) for v in VARIANT_CASE["variants"]],
            "wt_log_probs": table(wt_probs),
            "masked_log_probs": table(masked_probs),
        }


def write_variant_reference(out):
    reference = {"case": VARIANT_CASE, "fair_esm": "2.0.0", "torch": torch.__version__}
    for name in ("esm1b_tiny_t2", "esm2_tiny_t2"):
        reference[name] = variant_reference(out / f"{name}.pt")
    (out / "variants.reference.json").write_text(json.dumps(reference, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "fixtures")
    parser.add_argument("--full-esm1b", type=Path, help="build a full-size random ESM-1b in this folder instead")
    parser.add_argument("--training-state", action="store_true",
                        help="with --full-esm1b: also write a copy carrying fairseq's optimizer state")
    parser.add_argument("--only-fairseq", action="store_true",
                        help="only (re)write esm1b_tiny_t2_fairseq.pt from esm1b_tiny_t2.pt")
    parser.add_argument("--only-variants", action="store_true",
                        help="only (re)write fair-esm's variant scores on the tiny fixtures (variants.reference.json)")
    parser.add_argument("--only-heads", action="store_true",
                        help="only (re)write the per-head APC maps of the tiny fixtures (*.heads.safetensors)")
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.only_variants:
        write_variant_reference(args.out)
        return
    if args.only_heads:
        for name in ("esm1b_tiny_t2", "esm2_tiny_t2"):
            head_reference(args.out / f"{name}.pt", args.out / f"{name}.heads.safetensors")
        return
    if args.full_esm1b:
        full_esm1b(args.full_esm1b, args.training_state)
        return
    if args.only_fairseq:
        add_fairseq_training_state(args.out / "esm1b_tiny_t2.pt", args.out / "esm1b_tiny_t2_fairseq.pt")
        return
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    for arch, build in [("esm1b", build_esm1b), ("esm2", build_esm2)]:
        path = build(out)
        model, _, tensors = reference_outputs(path, out / f"{path.stem}.reference.safetensors")
        hf_dir = out / f"{path.stem}_hf"
        shutil.rmtree(hf_dir, ignore_errors=True)
        hf = save_huggingface(model, path, hf_dir, arch)
        print(f"{path.name}: HF max |logit diff| {check_hf_matches(hf, tensors):.2e}")
        head_reference(path, out / f"{path.stem}.heads.safetensors")
    write_variant_reference(out)
    add_fairseq_training_state(out / "esm1b_tiny_t2.pt", out / "esm1b_tiny_t2_fairseq.pt")
    # A broken checkpoint: the ESM-1b file cut in half.
    data = (out / "esm1b_tiny_t2.pt").read_bytes()
    (out / "truncated.pt").write_bytes(data[: len(data) // 2])


if __name__ == "__main__":
    main()
