"""python -m mcubench_models STEP WORKLOAD...  (STEP: train, quantize, evaluate, export, all, list)"""

import os
import sys

from . import common  # noqa: F401 - sets the TF environment variables first
from .workloads.mlcommons import MODELS_ENV


def main(argv):
    from . import pipeline
    from .workloads import registry

    if len(argv) < 1 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    step, names = argv[0], argv[1:]
    reg = registry()
    if step == "list":
        print("\n".join(reg))
        return 0
    if not names:
        print(f"usage: scripts/{step} WORKLOAD... (one of: {', '.join(reg)}; or 'all')", file=sys.stderr)
        return 2
    if names == ["all"]:
        names = list(reg)
        if step in ("export", "evaluate", "all") and not os.environ.get(MODELS_ENV):
            skipped = [n for n in names if not reg[n].trainable]
            names = [n for n in names if reg[n].trainable]
            print(f"note: {', '.join(skipped)} skipped: their official MLPerf Tiny files are read from the "
                  f"models directory in {MODELS_ENV}, which is not set", file=sys.stderr)
    steps = {"train": pipeline.train, "quantize": pipeline.quantize, "evaluate": pipeline.evaluate,
             "export": pipeline.export}
    for n in names:
        if n not in reg:
            print(f"unknown workload {n!r}; known: {', '.join(reg)}", file=sys.stderr)
            return 2
        w = reg[n]
        if step == "all":
            for s in ("train", "quantize", "export", "evaluate"):
                steps[s](w)
        else:
            steps[step](w)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
