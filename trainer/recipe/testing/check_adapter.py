"""Reload a trained adapter with PEFT, generate, and compare with the merged model.

    python check_adapter.py BASE_DIR ADAPTER_DIR

Prints one JSON object: the adapter's config, the tokens generated, and the
largest logit difference between base + adapter and the merged model.
"""

import json
import sys


def main():
    base_dir, adapter_dir = sys.argv[1], sys.argv[2]
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(adapter_dir)
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    model = PeftModel.from_pretrained(base, adapter_dir)
    model.eval()
    prompt = tok.apply_chat_template([{"role": "user", "content": "Implement the Python function `f`."}],
                                     add_generation_prompt=True, return_tensors="pt", return_dict=True)
    n = prompt["input_ids"].shape[1]
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=5, min_new_tokens=5, do_sample=False,
                             pad_token_id=tok.pad_token_id)
        adapter_logits = model(**prompt).logits
        merged = model.merge_and_unload()
        merged_logits = merged(**prompt).logits
    with open(f"{adapter_dir}/adapter_config.json") as f:
        config = json.load(f)
    print(json.dumps({
        "adapter_config": config,
        "generated_tokens": int(out.shape[1] - n),
        "generated": tok.decode(out[0][n:]),
        "merge_max_abs_diff": float((adapter_logits - merged_logits).abs().max()),
    }))


if __name__ == "__main__":
    main()
