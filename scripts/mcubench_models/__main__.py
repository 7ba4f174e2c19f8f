"""python -m mcubench_models STEP WORKLOAD...  (STEP: train, quantize, evaluate, export, all, list)"""

import sys

from . import common  # noqa: F401 - sets the TF environment variables first


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
