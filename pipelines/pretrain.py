"""DVC stage ``pretrain@<run>``: ``python -m pipelines.pretrain <run>`` (see pipelines.train_stage)."""

import sys

from .train_stage import main

if __name__ == "__main__":
    sys.exit(main("pretrain"))
