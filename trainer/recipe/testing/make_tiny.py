"""Build a tiny, randomly initialised Llama and a tokenizer trained on a dataset.

Nothing is downloaded: the tokenizer is trained here (the `tokenizers` package)
on the dataset's own text and the model is built from a LlamaConfig. Used by
r2c's tests to run the real training recipe on a CPU.

    python make_tiny.py DATASET_DIR OUT_DIR
"""

import json
import os
import sys


def texts(data_dir):
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        path = os.path.join(data_dir, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                for m in json.loads(line)["messages"]:
                    yield m["content"]


def main():
    data_dir, out = sys.argv[1], sys.argv[2]
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    specials = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(texts(data_dir)), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", pad_token="<pad>")
    fast.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}"
        "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    config = LlamaConfig(vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id, tie_word_embeddings=False)
    model = LlamaForCausalLM(config)

    # A second tokenizer shaped like Llama's and CodeLlama's own (SentencePiece
    # BPE: "▁" for spaces, byte fallback), to check token counting on that shape.
    from tokenizers import normalizers

    sp = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    sp.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    sp.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                    decoders.Strip(" ", 1, 0)])
    sp_trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=specials[:3] + [f"<0x{i:02X}>" for i in range(256)])
    sp.train_from_iterator(list(texts(data_dir)), trainer=sp_trainer)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    fast.save_pretrained(out)
    sp.save(os.path.join(out, "llama_style_tokenizer.json"))
    print(json.dumps({"model": out, "vocab": len(fast), "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
