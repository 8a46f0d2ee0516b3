// Package trainer turns a user's own git repositories into a fine-tuning
// data set and drives the LoRA fine-tune that learns from it.
//
// Dataset reads history and trees with go-git (no git binary needed; bare
// and shallow clones work), keeps the git-tracked Python files and notebook
// code cells that are the user's own (vendored, generated, minified and
// virtual-environment code is skipped, .gitignore honoured), cuts them into
// units with the style engine's parser, removes secrets (gitleaks' default
// rules plus rules for what they miss), drops trivial, unparsable, duplicate,
// near-duplicate (MinHash LSH) and off-style units, and writes chat
// "messages" records split train/validation/test by a hash of each unit's
// identity, with a card that accounts for every drop.
//
// The training itself is a Python recipe (transformers, PEFT, TRL's
// SFTTrainer) embedded in this package and started with `accelerate launch`;
// Setup builds its virtual environment from a lock file and Run checks the
// environment, launches it and renders its JSON-lines events.
package trainer
