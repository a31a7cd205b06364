"""companion: a real-time streaming companion engine."""


def __getattr__(name: str):
    # Lazy, so importing companion does not pull torch/transformers.
    if name == "Analyzer":
        from companion.analyzer import Analyzer

        return Analyzer
    raise AttributeError(name)
