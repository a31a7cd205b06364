"""Chat connectors: Twitch IRC, Discord, webhook ingest, replay/stdin.

Each platform lives in its own module and is imported where it is used (``discord`` is slow to
import), so this package imports nothing eagerly. The shared interface is in :mod:`.base`.
"""
