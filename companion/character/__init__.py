"""The companion character: its own mood (neurochemistry ODE), response recommendations,
prompt context, and outputs to MCP and VTube Studio."""
from companion.character.config import CharacterConfig
from companion.character.engine import CharacterEngine, CharacterStage

__all__ = ["CharacterConfig", "CharacterEngine", "CharacterStage"]
