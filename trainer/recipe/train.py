"""r2c's LoRA fine-tuning recipe, started by `r2c train run` with `accelerate launch`.

transformers + PEFT + TRL's SFTTrainer. Every hyperparameter comes from the run
configuration that r2c writes (run.json): TRL's and PEFT's own defaults differ
from r2c's design (max length 1024, learning rate 2e-5, LoRA alpha 8, dropout 0),
so none is left to them. Events go to stdout as JSON lines, one object per line;
everything else (warnings, tracebacks) goes to stderr.
"""

import argparse
import json
import math
import os
import signal
import sys
import time

# The chat template used when the base model's tokenizer has none. The prompt
# rendered with add_generation_prompt is a prefix of the full conversation, which
# is what TRL's prompt-completion masking needs.
FALLBACK_CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}"
    "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

_stop = {"requested": False}


def emit(event, **fields):
    """Write one event for r2c, from the main process only."""
    if int(os.environ.get("RANK", "0")) != 0:
        return
    fields["event"] = event
    sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()


def _request_stop(signum, frame):
    _stop["requested"] = True


def load_splits(data_dir):
    """Load the dataset's splits as conversational prompt-completion pairs.

    The completion is the assistant's turn only, so completion_only_loss trains
    on the user's code and never on the instruction.
    """
    from datasets import load_dataset

    files = {}
    for split in ("train", "validation", "test"):
        path = os.path.join(data_dir, split + ".jsonl")
        if os.path.exists(path) and os.path.getsize(path) > 0:
            files[split] = path
    if "train" not in files:
        raise SystemExit(f"r2c recipe: {data_dir}/train.jsonl is missing or empty")
    raw = load_dataset("json", data_files=files)

    def to_pair(row):
        return {"prompt": row["messages"][:-1], "completion": row["messages"][-1:], "id": row["id"]}

    return {name: ds.map(to_pair, remove_columns=ds.column_names) for name, ds in raw.items()}


def length_stats(lengths):
    s = sorted(lengths)
    if not s:
        return {}
    return {"n": len(s), "min": s[0], "mean": round(sum(s) / len(s), 1),
            "p95": s[int(0.95 * (len(s) - 1))], "max": s[-1]}


def check_masks(dataset, max_length):
    """Refuse to train on an empty loss mask; report token lengths.

    An all-zero mask trains nothing and raises no error in TRL, the most common
    silent failure of completion-only fine-tuning.
    """
    lengths, masked, empty, clipped = [], 0, 0, 0
    for row in dataset:
        ids = row["input_ids"]
        lengths.append(len(ids))
        if len(ids) >= max_length:
            clipped += 1
        if row.get("labels") is not None:  # TRL 1.x: the mask becomes labels of -100
            kept = sum(1 for label in row["labels"][:max_length] if label != -100)
        elif row.get("completion_mask") is not None:
            kept = sum(row["completion_mask"][:max_length])
        else:
            raise SystemExit("r2c recipe: the processed dataset has neither labels nor a completion mask: "
                             "this TRL version masks differently from the locked one")
        masked += kept
        if kept == 0:
            empty += 1
    emit("dataset", rows=len(lengths), tokens=length_stats(lengths), completion_tokens=masked,
         empty_masks=empty, clipped=clipped, max_length=max_length)
    if masked == 0:
        raise SystemExit("r2c recipe: the loss mask is empty on every row: nothing would be trained "
                         "(check the chat template renders the prompt as a prefix of the conversation)")
    return empty


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, help="run.json written by r2c train run")
    args = parser.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)

    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    torch.manual_seed(cfg["seed"])
    cuda = torch.cuda.is_available()
    splits = load_splits(cfg["data"])

    tokenizer = AutoTokenizer.from_pretrained(cfg["base"])
    if tokenizer.chat_template is None:
        tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
        emit("warning", message="the base model's tokenizer has no chat template: r2c's plain template is used")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token

    model_kwargs = {}
    quant = cfg["quantization"]
    if quant != "none":
        from transformers import BitsAndBytesConfig

        if quant == "8bit":
            model_kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
        else:
            model_kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=torch.bfloat16)
    bf16 = bool(cuda and torch.cuda.is_bf16_supported())
    if bf16:
        model_kwargs["dtype"] = torch.bfloat16
    model = AutoModelForCausalLM.from_pretrained(cfg["base"], **model_kwargs)
    if quant != "none":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg["gradient_checkpointing"])

    lora = cfg["lora"]
    target = lora["target_modules"]
    peft_config = LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=target if target != ["all-linear"] else "all-linear",
        bias="none",
        task_type="CAUSAL_LM",
        # vLLM refuses adapters carrying full lm_head/embed_tokens weights
        modules_to_save=None,
    )

    t = cfg["training"]
    has_val = "validation" in splits and len(splits["validation"]) > 0
    ckpt_dir = os.path.join(cfg["out"], "checkpoints")
    sft = SFTConfig(
        output_dir=ckpt_dir,
        max_length=t["max_length"],
        truncation_mode="keep_start",
        packing=False,
        completion_only_loss=True,
        assistant_only_loss=False,
        learning_rate=t["learning_rate"],
        lr_scheduler_type=t["lr_scheduler"],
        warmup_steps=t["warmup_ratio"],
        weight_decay=t["weight_decay"],
        per_device_train_batch_size=t["batch_size"],
        per_device_eval_batch_size=t["batch_size"],
        gradient_accumulation_steps=t["gradient_accumulation_steps"],
        num_train_epochs=t["epochs"],
        max_steps=t["max_steps"] if t["max_steps"] > 0 else -1,
        gradient_checkpointing=cfg["gradient_checkpointing"],
        activation_checkpointing_kwargs={"use_reentrant": False},
        seed=cfg["seed"],
        data_seed=cfg["seed"],
        logging_steps=1,
        save_strategy="steps",
        save_steps=t["save_steps"],
        save_total_limit=2,
        eval_strategy="steps" if has_val else "no",
        eval_steps=t["eval_steps"],
        bf16=bf16,
        use_cpu=not cuda,
        include_num_input_tokens_seen="non_padding",
        report_to=["wandb"] if os.environ.get("WANDB_API_KEY") else "none",
        dataloader_num_workers=0,
        disable_tqdm=True,
    )

    class Events(TrainerCallback):
        """Turns the Trainer's logs into r2c's events and honours Ctrl-C."""

        def __init__(self):
            self.start = time.time()

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            elapsed = max(time.time() - self.start, 1e-6)
            step, total = state.global_step, state.max_steps
            ev = {"step": step, "max_steps": total, "epoch": round(state.epoch or 0, 4)}
            tokens = getattr(state, "num_input_tokens_seen", 0) or 0
            if tokens:
                ev["tokens_per_s"] = round(tokens / elapsed, 1)
            if step > 0 and total:
                ev["eta_s"] = round(elapsed / step * (total - step), 1)
            if "eval_loss" in logs:
                emit("eval", eval_loss=logs["eval_loss"], **ev)
            elif "loss" in logs:
                emit("log", loss=logs["loss"], learning_rate=logs.get("learning_rate"),
                     grad_norm=logs.get("grad_norm"), **ev)

        def on_step_end(self, args, state, control, **kwargs):
            if _stop["requested"]:
                control.should_save = True
                control.should_training_stop = True

        def on_save(self, args, state, control, **kwargs):
            emit("checkpoint", step=state.global_step,
                 path=os.path.join(args.output_dir, f"checkpoint-{state.global_step}"))

    trainer = SFTTrainer(
        model=model,
        args=sft,
        train_dataset=splits["train"],
        eval_dataset=splits["validation"] if has_val else None,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[Events()],
    )
    check_masks(trainer.train_dataset, t["max_length"])
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in trainer.model.parameters())
    emit("start", base=cfg["base"], device="cuda" if cuda else "cpu", gpus=torch.cuda.device_count(),
         trainable_params=trainable, total_params=total, train_rows=len(splits["train"]))

    resume = None
    if cfg["resume"]:
        ckpts = [d for d in os.listdir(ckpt_dir) if d.startswith("checkpoint-")] if os.path.isdir(ckpt_dir) else []
        if not ckpts:
            raise SystemExit(f"r2c recipe: --resume: no checkpoint in {ckpt_dir} to resume from")
        resume = os.path.join(ckpt_dir, max(ckpts, key=lambda d: int(d.split("-")[1])))
        emit("resume", checkpoint=resume)
    trainer.train(resume_from_checkpoint=resume)

    if _stop["requested"]:
        emit("stopped", step=trainer.state.global_step, checkpoints=ckpt_dir)
        return 0

    adapter_dir = cfg["adapter"]
    trainer.save_model(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)
    emit("saved", adapter=adapter_dir, step=trainer.state.global_step)

    if "test" in splits and len(splits["test"]) > 0 and cfg["evaluate"]:
        evaluate(trainer, tokenizer, splits["test"], cfg)
    emit("done")
    return 0


def evaluate(trainer, tokenizer, test, cfg):
    """Base model against base + adapter on the test split: loss, and samples of
    generated code that r2c scores for style."""
    import torch

    model = trainer.model
    processed = trainer._prepare_dataset(test, tokenizer, trainer.args, packing=False,
                                         formatting_func=None, dataset_name="test")
    adapter_loss = trainer.evaluate(eval_dataset=processed, metric_key_prefix="test")["test_loss"]
    with model.disable_adapter():
        base_loss = trainer.evaluate(eval_dataset=processed, metric_key_prefix="test")["test_loss"]
    samples_path = os.path.join(cfg["out"], "eval_samples.jsonl")
    model.eval()
    with open(samples_path, "w") as out:
        for row in test.select(range(min(cfg["eval_samples"], len(test)))):
            prompt = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True,
                                                   return_tensors="pt", return_dict=True)
            prompt = {k: v.to(model.device) for k, v in prompt.items()}
            n = prompt["input_ids"].shape[1]
            gen = {"max_new_tokens": cfg["eval_new_tokens"], "do_sample": False,
                   "pad_token_id": tokenizer.pad_token_id}
            with torch.no_grad():
                tuned = model.generate(**prompt, **gen)[0][n:]
                with model.disable_adapter():
                    base = model.generate(**prompt, **gen)[0][n:]
            out.write(json.dumps({"id": row["id"], "reference": row["completion"][0]["content"],
                                  "base": tokenizer.decode(base, skip_special_tokens=True),
                                  "adapter": tokenizer.decode(tuned, skip_special_tokens=True)}) + "\n")
    emit("evaluation", base_loss=base_loss, adapter_loss=adapter_loss,
         base_perplexity=math.exp(min(base_loss, 50)), adapter_perplexity=math.exp(min(adapter_loss, 50)),
         samples=samples_path)


if __name__ == "__main__":
    sys.exit(main())
