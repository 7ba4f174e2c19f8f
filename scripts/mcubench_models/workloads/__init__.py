"""The workloads the scripts know, by name."""


def registry():
    from .digits import Digits

    ws = [Digits()]
    try:
        from .kws import Kws
        ws.append(Kws())
    except ImportError:
        pass
    try:
        from .anomaly import Anomaly
        ws.append(Anomaly())
    except ImportError:
        pass
    try:
        from .gesture import Gesture
        ws.append(Gesture())
    except ImportError:
        pass
    try:
        from .shapes import Shapes
        ws.append(Shapes())
    except ImportError:
        pass
    # the MLPerf Tiny reference architectures, trained here
    from .mlperf_ad import MlperfAd
    from .mlperf_ic import MlperfIc
    from .mlperf_kws import MlperfKws
    from .mlperf_vww import MlperfVww

    ws.extend([MlperfKws(), MlperfVww(), MlperfIc(), MlperfAd()])
    # the official MLPerf Tiny files, read from the models directory
    from .mlcommons import MLCOMMONS

    ws.extend(MLCOMMONS)
    return {w.name: w for w in ws}
