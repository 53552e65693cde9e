"""Stage 4: the engine, a real OPA server (started by us, or an existing one) evaluating chunks."""

from auditor.engine.binary import find_opa
from auditor.engine.client import Engine, EngineSettings
from auditor.engine.server import ManagedOpa

__all__ = ["Engine", "EngineSettings", "ManagedOpa", "find_opa"]
