"""DVC stage ``finetune@<run>``: ``python -m pipelines.finetune <run>`` (see pipelines.train_stage)."""

import sys

from .train_stage import main

if __name__ == "__main__":
    sys.exit(main("finetune"))
