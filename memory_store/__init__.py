"""Tiered long-term memory for the companion: FAISS + LMDB, Ebbinghaus decay, consolidation,
episodes, pinned core facts, viewer profiles, a knowledge graph, and forgetting.

    from memory_store import MemoryStore, MemoryConfig
    store = MemoryStore(data_dir, embed=analyzer.embed)
"""
from memory_store.config import MemoryConfig
from memory_store.graph import KnowledgeGraph
from memory_store.records import Episode, ForgetReport, MemoryHit, MemoryRecord, ViewerProfile
from memory_store.store import MemoryStore

__all__ = ["MemoryStore", "MemoryConfig", "MemoryHit", "MemoryRecord", "ViewerProfile", "Episode",
           "ForgetReport", "KnowledgeGraph"]
