"""Print the token count of each JSON-string line of stdin with a tokenizer.json.

The Python `tokenizers` package is the reference the Go reader is tested against.

    python count_tokens.py tokenizer.json < texts.jsonl
"""

import json
import sys

from tokenizers import Tokenizer


def main():
    tok = Tokenizer.from_file(sys.argv[1])
    for line in sys.stdin:
        text = json.loads(line)
        print(len(tok.encode(text, add_special_tokens=False).ids))


if __name__ == "__main__":
    main()
