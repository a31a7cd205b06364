"""CharacterEngine: the companion's own mood plus a steady stream of response recommendations.

It consumes analysed :class:`pipelines.event.Event` batches (as the ``character`` pipeline stage),
moves the mood ODE (:mod:`.neurochem`), scores the messages worth answering (:mod:`.pick`), and
publishes :class:`Recommendation` objects (bus topic ``recommendations``) and mood snapshots
(topic ``mood``). Mood, viewers seen, answered ids and recent recommendations persist in
``<data_dir>/character_state.json`` (the main engine passes ``<--data-dir>/character``).
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import json
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import orjson

from companion.character.config import CHEMICALS, CharacterConfig
from companion.character.derived import conditioning_tokens, pad_from, sampling_from
from companion.character.expression import CUE_TTL_S, ExpressionState
from companion.character.forgetting import Forget, login_of
from companion.character.injection_check import looks_like_injection
from companion.character.insults import lexicon_toxicity
from companion.character.moderation import Moderator
from companion.character.neurochem import Neurochemistry, NeuroState
from companion.character.pick import Candidate, addresses, novelty, score_candidate, skip_reason
from companion.character.recommender import build_recommendation, recall, recommendation_from_dict
from companion.character.spam import SpamTracker
from companion.character.stimulus import MIX_TERMS, stimulus_from
from companion.atomic_file import write_atomic
from companion.lru import LruDict
from companion.recommendation import ModerationSuggestion, Recommendation, SkippedMessage
from companion.records import Toxicity

log = logging.getLogger(__name__)

STATE_VERSION = 1
MAX_VIEWERS = 20000


def _degraded(c: Candidate) -> bool:
    return bool(c.record is not None and getattr(c.record, "degraded", False))
MAX_ANSWERED = 5000
RECENT_PER_CHANNEL = 50
SAVE_EVERY_S = 30.0
IN_FLIGHT_S = 120.0  # how long a forgotten viewer's in-flight messages are still dropped

# update_emotion(emotion=...) -> (chemical, direction) impulses and the expression cue it sets
EMOTION_IMPULSES: dict[str, tuple[tuple[tuple[str, float], ...], str]] = {
    "joy": ((("dopamine", 1.0),), "joy"), "happy": ((("dopamine", 1.0),), "joy"),
    "excitement": ((("dopamine", 1.0),), "joy"), "hype": ((("dopamine", 1.0),), "joy"),
    "gratitude": ((("oxytocin", 1.0),), ""), "love": ((("oxytocin", 1.0),), ""),
    "affection": ((("oxytocin", 1.0),), ""), "caring": ((("oxytocin", 1.0),), ""),
    "sadness": ((("dopamine", -1.0),), "sadness"), "disappointment": ((("dopamine", -1.0),), "sadness"),
    "anger": ((("cortisol", 1.0),), "anger"), "annoyance": ((("cortisol", 0.5),), "anger"),
    "disgust": ((("cortisol", 0.5),), "disgust"),
    "stress": ((("cortisol", 1.0),), "fear"), "fear": ((("cortisol", 1.0),), "fear"),
}

ModerationExecutor = Callable[[ModerationSuggestion], "Awaitable[bool] | bool"]
RecommendationCallback = Callable[[Recommendation], "Awaitable[None] | None"]


@dataclass(slots=True)
class ViewerSeen:
    user: str
    first_seen: float
    last_seen: float
    count: int = 0


class CharacterStage:
    """The pipeline stage wrapper (implements :class:`pipelines.stage.Stage`)."""

    name = "character"
    # It only reads records (mood, recommendations, moderation): the record is published before
    # it runs, so a recall or a pick never adds to the record's latency (pipelines/runtime.py).
    follows_publish = True

    def __init__(self, engine: "CharacterEngine") -> None:
        self.engine = engine
        self._ticker: asyncio.Task | None = None

    async def start(self) -> None:
        self._ticker = asyncio.create_task(self.engine._tick_forever())

    async def process(self, events: list) -> None:
        await self.engine.process(events)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await asyncio.to_thread(self.engine.save)


class CharacterEngine:
    """The companion's mood and the recommendation stream. See the module docstring."""

    def __init__(self, data_dir: Path | str, memory: Any = None, bus: Any = None,
                 config: CharacterConfig | None = None, clock: Callable[[], float] = time.time,
                 moderate: bool = False, moderation_executor: ModerationExecutor | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.config = config or CharacterConfig.load(self.data_dir)
        self.memory = memory
        self.bus = bus
        self.clock = clock
        self.moderate = moderate
        self.moderation_executor = moderation_executor
        cfg = self.config
        self._lock = threading.RLock()
        self.neuro = Neurochemistry(cfg.neurochem)
        self.neuro.reset(clock())
        self.expression = ExpressionState(cfg.expression, since=clock())
        self._cue: tuple[str | None, float, float] = (None, 0.0, 0.0)  # label, strength, t
        self.spam = SpamTracker(cfg.pick.spam_similarity, cfg.pick.spam_window_s, cfg.pick.copypasta_count)
        self.moderator = Moderator(cfg.moderation)
        self._pool: dict[str, deque[Candidate]] = {}
        self._recent: dict[str, deque[Candidate]] = {}
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._deleted: OrderedDict[str, None] = OrderedDict()  # moderator-deleted message ids
        self._gone_viewers: LruDict[str, float] = LruDict(MAX_VIEWERS)  # forgotten viewer -> when
        self._banned: dict[tuple[str, str], float] = {}  # (channel, login) -> banned until (msg time)
        self.viewers: LruDict[str, ViewerSeen] = LruDict(MAX_VIEWERS)  # bounded: chat never ends
        self._recs: deque[Recommendation] = deque(maxlen=cfg.keep_recommendations)
        self._queues: list[asyncio.Queue] = []
        self._callbacks: list[RecommendationCallback] = []
        self._last_save = 0.0
        self._last_mood_published: dict[str, Any] | None = None
        self.stats = {"messages": 0, "recommendations": 0, "moderation_suggested": 0, "moderation_executed": 0}
        self.stage = CharacterStage(self)
        self.load()
        self._mood_cache: dict[str, Any] = self.mood_state()
        self._rec_cache: Recommendation | None = self.next_recommendation()

    # ----- persistence -------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.data_dir / "character_state.json"

    def save(self) -> None:
        """Write mood, viewers seen, answered ids and recent recommendations (atomic replace)."""
        with self._lock:
            viewers = sorted(self.viewers.items(), key=lambda kv: kv[1].last_seen, reverse=True)[:MAX_VIEWERS]
            blob = {
                "version": STATE_VERSION,
                "saved_at": self.clock(),
                "neuro": self.neuro.state.to_dict(),
                "expression": {"label": self.expression.label, "since": self.expression.since},
                "viewers": {k: [v.user, v.first_seen, v.last_seen, v.count] for k, v in viewers},
                "answered": list(self._answered)[-MAX_ANSWERED:],
                "deleted": list(self._deleted)[-MAX_ANSWERED:],
                "recommendations": [r.to_dict() for r in self._recs],
            }
            self._last_save = self.clock()
        # orjson: a C encoder holds the GIL for the whole call, and this is 20k viewers; ~10x
        # faster than json.dumps, so the event loop waits that much less.
        write_atomic(self.state_path, orjson.dumps(blob, option=orjson.OPT_NON_STR_KEYS))

    def load(self) -> bool:
        """Restore the persisted state if there is one; the mood then relaxes over the downtime.
        A corrupt file is renamed aside (``state.json.bad``) and the engine starts fresh."""
        path = self.state_path
        if not path.is_file():
            return False
        try:
            blob = json.loads(path.read_text(encoding="utf-8"))
            neuro = NeuroState.from_dict(blob["neuro"], self.config.neurochem)
            viewers = {k: ViewerSeen(*v) for k, v in blob.get("viewers", {}).items()}
            recs = [recommendation_from_dict(r) for r in blob.get("recommendations", [])]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("character state %s unreadable (%s); starting fresh", path, exc)
            with contextlib.suppress(OSError):
                os.replace(path, path.with_name(path.name + ".bad"))
            return False
        with self._lock:
            self.neuro.state = neuro
            self.neuro.advance(self.clock())
            exp = blob.get("expression", {})
            self.expression.label = exp.get("label", "neutral")
            self.expression.since = float(exp.get("since", self.clock()))
            self.viewers = LruDict(MAX_VIEWERS, sorted(viewers.items(), key=lambda kv: kv[1].last_seen))
            self._answered = OrderedDict((a, None) for a in blob.get("answered", []))
            self._deleted = OrderedDict((a, None) for a in blob.get("deleted", []))
            self._recs.extend(recs)
        return True

    def close(self) -> None:
        """Persist the state (the engine calls this on shutdown)."""
        self.save()

    # ----- mood --------------------------------------------------------------------------------
    def _update_expression(self, now: float) -> None:
        pad = pad_from(self.neuro.state.levels, self.config.neurochem.baseline)
        cue, strength, t = self._cue
        if cue is not None and now - t > CUE_TTL_S:
            cue, strength = None, 0.0
        self.expression.update(pad.as_tuple(), now, cue, strength)

    def mood_state(self) -> dict[str, Any]:
        """Neurochemicals, PAD, expression, sampling parameters and conditioning tokens, now."""
        with self._lock:
            now = self.clock()
            self.neuro.advance(now)
            self._update_expression(now)
            levels = {c: round(self.neuro.state.levels[c], 4) for c in CHEMICALS}
            pad = pad_from(self.neuro.state.levels, self.config.neurochem.baseline)
            return {
                "ts": now,
                "name": self.config.name,
                "neurochemicals": levels,
                "baseline": dict(self.config.neurochem.baseline),
                "valence_avg": round(self.neuro.state.valence_avg, 4),
                "chat_mix": {k: round(self.neuro.state.fast.mean(k), 4) for k in MIX_TERMS},
                "chat_rate_msgs_s": round(self.neuro.state.fast.rate(), 3),
                "pad": pad.to_dict(),
                "expression": self.expression.label,
                "expression_since": self.expression.since,
                "sampling": sampling_from(self.neuro.state.levels, self.config.sampling).to_dict(),
                "conditioning": conditioning_tokens(self.neuro.state.levels, self.expression.label),
            }

    def mood_snapshot(self) -> dict[str, Any]:
        """:meth:`mood_state` when the lock is free, else the last one computed. Never waits:
        the loop thread must not block on the lock a batch holds through memory searches."""
        if self._lock.acquire(blocking=False):
            try:
                self._mood_cache = self.mood_state()
            finally:
                self._lock.release()
        return self._mood_cache

    def recommendation_snapshot(self) -> Recommendation | None:
        """:meth:`next_recommendation` without waiting for the lock (loop-safe, like
        :meth:`mood_snapshot`)."""
        if self._lock.acquire(blocking=False):
            try:
                self._rec_cache = self.next_recommendation()
            finally:
                self._lock.release()
        return self._rec_cache

    def update_emotion(self, emotion: str | None = None, intensity: float = 0.5, *,
                       dopamine: float | None = None, serotonin: float | None = None,
                       cortisol: float | None = None, oxytocin: float | None = None,
                       mode: str = "delta", save: bool = True) -> dict[str, Any]:
        """Move the mood by hand (MCP ``update_emotion``). ``emotion`` (joy, excitement, gratitude,
        love, sadness, anger, stress, ...) applies a stimulus of ``intensity`` (0..1); chemical
        values are added (``mode="delta"``) or set (``mode="set"``). Returns :meth:`mood_state`."""
        if mode not in ("delta", "set"):
            raise ValueError("mode must be 'delta' or 'set'")
        if not 0.0 <= float(intensity) <= 1.0:
            raise ValueError("intensity must be in [0, 1]")
        with self._lock:
            now = self.clock()
            if emotion:
                spec = EMOTION_IMPULSES.get(emotion.lower())
                if spec is None:
                    raise ValueError(f"unknown emotion {emotion!r}; known: {sorted(EMOTION_IMPULSES)}")
                impulses, label = spec
                for chem, direction in impulses:
                    self.neuro.impulse(chem, direction * float(intensity), now)
                if label:
                    self._cue = (label, float(intensity), now)
            for chem, value in (("dopamine", dopamine), ("serotonin", serotonin), ("cortisol", cortisol),
                                ("oxytocin", oxytocin)):
                if value is None:
                    continue
                if mode == "set":
                    self.neuro.set_level(chem, value, now)
                else:
                    self.neuro.nudge(chem, value, now)
            self._update_expression(now)
        if save:
            self.save()
        state = self.mood_state()
        self._publish("mood", state)
        return state

    # ----- recommendations ---------------------------------------------------------------------
    def mark_answered(self, message_id: str) -> None:
        """Record that the character answered this message, so it is never picked again."""
        with self._lock:
            self._answered[message_id] = None
            while len(self._answered) > MAX_ANSWERED:
                self._answered.popitem(last=False)

    # ----- forgetting and acknowledgement ------------------------------------------------------
    def _forget(self, f: Forget) -> dict[str, int]:
        """Drop everything ``f`` covers from the pools, the context, the viewers table and pending
        recommendations, keep tombstones so in-flight copies are dropped too, then persist."""
        with self._lock:
            removed = 0
            for pools in (self._pool, self._recent):
                for channel, dq in pools.items():
                    keep = [c for c in dq if not f.matches_message(c.message.id, c.message.viewer_key,
                                                                    c.message.user, c.message.channel)]
                    removed += (len(dq) - len(keep)) if pools is self._pool else 0
                    pools[channel] = deque(keep, maxlen=dq.maxlen)
            viewers = 0
            for key in list(f.viewer_keys):
                viewers += int(self.viewers.pop(key, None) is not None)
            if f.logins and not f.viewer_keys:
                for key, seen in list(self.viewers.items()):
                    if seen.user.lower() in f.logins:
                        del self.viewers[key]
                        viewers += 1
            before = len(self._recs)
            kept = [r for r in self._recs if not f.mentioned_in(r)]
            self._recs.clear()
            self._recs.extend(kept)
            for mid in f.message_ids:
                self._deleted[mid] = None
                self.mark_answered(mid)
            while len(self._deleted) > MAX_ANSWERED:
                self._deleted.popitem(last=False)
            self._rec_cache = self.next_recommendation()
        self.save()
        return {"candidates": removed, "viewers": viewers, "recommendations": before - len(kept)}

    def forget_viewer(self, viewer_key: str) -> dict[str, int]:
        """``DELETE /api/viewers/{id}``: forget a viewer in the character engine everywhere."""
        seen = self.viewers.get(viewer_key)
        logins = {login_of(viewer_key)} | ({seen.user.lower()} if seen is not None else set())
        self._gone_viewers[viewer_key] = self.clock()
        return self._forget(Forget(viewer_keys={viewer_key}, logins=logins))

    def forget_message(self, message_id: str) -> dict[str, int]:
        """A moderator deleted one message (CLEARMSG): never pick, quote or answer it."""
        return self._forget(Forget(message_ids={message_id}))

    def forget_user(self, channel: str, user: str, until_ts: float | None = None) -> dict[str, int]:
        """A ban or timeout (CLEARCHAT): drop the user's messages in ``channel``, including ones
        still in the pipeline that were sent up to ``until_ts`` (message time; default now)."""
        login = user.lower()
        self._banned[(channel.lstrip("#").lower(), login)] = until_ts if until_ts is not None else time.time()
        return self._forget(Forget(logins={login}, channel=channel))

    def _tombstoned(self, m: Any) -> bool:
        if m.id in self._deleted:
            return True
        gone = self._gone_viewers.get(m.viewer_key)
        if gone is not None and self.clock() - gone <= IN_FLIGHT_S:
            return True  # sent before the forget, still in the pipeline; later messages are new
        until = self._banned.get((m.channel.lstrip("#").lower(), m.user.lower()))
        return until is not None and m.ts <= until

    def can_answer(self, message_id: str) -> bool:
        """False for a message a moderator deleted (or whose author was forgotten or banned)."""
        with self._lock:
            return message_id not in self._deleted

    def acknowledge(self, used_memory_ids: list[str] | None = None, message_id: str | None = None) -> dict[str, Any]:
        """The character answered (``message_id``) and used these memories: only now are they
        reinforced in the store. Ids that no recent recommendation offered are ignored, so the
        API cannot pump arbitrary memories."""
        if message_id:
            self.mark_answered(message_id)
        with self._lock:
            offered = {m.memory_id for r in self._recs for m in r.memories}
        wanted = [str(m) for m in (used_memory_ids or [])]
        used = [m for m in dict.fromkeys(wanted) if m in offered]
        reinforced = 0
        if used and self.memory is not None and hasattr(self.memory, "reinforce"):
            reinforced = int(self.memory.reinforce(used))
        self.stats["memories_reinforced"] = self.stats.get("memories_reinforced", 0) + reinforced
        return {"reinforced": reinforced, "ignored": sorted(set(wanted) - set(used))}

    def _profile(self, viewer: str) -> Any:
        if self.memory is None or not hasattr(self.memory, "viewer_profile"):
            return None
        try:
            return self.memory.viewer_profile(viewer)
        except Exception as exc:  # noqa: BLE001 - the store is another component
            log.debug("viewer_profile failed: %s", exc)
            return None

    def _ingest(self, ev: Any, now: float) -> list[ModerationSuggestion]:
        m, r = ev.message, ev.record
        cfg = self.config
        if m.user.lower() == cfg.name.lower():
            if m.reply_to_id:
                self.mark_answered(m.reply_to_id)
            return []
        if self._tombstoned(m):
            return []  # deleted or forgotten while it was still in the pipeline
        self.stats["messages"] += 1
        r = self._with_fallback_toxicity(m.text, r)
        viewer = m.viewer_key
        verdict = self.spam.check(viewer, m.text, now)
        injection = looks_like_injection(m.text, r)
        stim = stimulus_from(m, r, spam=verdict.spam, addressed=addresses(m, cfg.name) is not None)
        self.neuro.apply(stim, now)
        if stim.cue and stim.cue_strength >= 0.5:
            self._cue = (stim.cue, stim.cue_strength, now)
        mods = self.moderator.suggest(m, r, now, verdict.repeats if verdict.spam else 0)
        # The remember stage counted this message already (``Event.viewer_messages``); only
        # without it is the store asked, which waits on its lock while a batch is written.
        prof_count = getattr(ev, "viewer_messages", None)
        profile = self._profile(viewer) if prof_count is None else None
        seen = self.viewers.get(viewer)
        if prof_count is None:
            prof_count = getattr(profile, "message_count", None)
        first_time = bool(m.first_message) or (seen is None and (prof_count is None or prof_count <= 1))
        if seen is None:
            seen = self.viewers[viewer] = ViewerSeen(m.user, now, now, 0)
        seen.last_seen, seen.count = now, seen.count + 1
        relationship = (r.social.relationship if r is not None and r.social is not None else None) \
            or getattr(profile, "relationship", None)
        recent = self._recent.setdefault(m.channel, deque(maxlen=RECENT_PER_CHANNEL))
        nov = novelty(m.text, [c.message.text for c in recent], getattr(ev, "embedding", None),
                      [c.embedding for c in recent])
        cand = Candidate(message=m, record=r, seen_at=now, first_time=first_time, novelty=nov,
                         relationship=relationship if isinstance(relationship, str) else None,
                         message_count=prof_count if isinstance(prof_count, int) else seen.count,
                         spam_reason=verdict.reason if verdict.spam else "", injection=injection,
                         embedding=getattr(ev, "embedding", None))
        recent.append(cand)
        self._pool.setdefault(m.channel, deque(maxlen=500)).append(cand)
        return mods

    def _with_fallback_toxicity(self, text: str, r: Any) -> Any:
        """When the toxicity model did not run, judge with the insult lexicon (a copy; the
        analyser's record itself is left as it was)."""
        if r is None or (r.toxicity is not None and r.toxicity.score is not None):
            return r
        score = lexicon_toxicity(text, self.config.name)
        if score <= 0:
            return r
        return dataclasses.replace(r, toxicity=Toxicity(score=score, label="offensive (lexicon fallback)",
                                                        flagged=score >= self.config.moderation.delete_threshold))

    def _recommend_channel(self, channel: str, new_ids: set[str], mods: list[ModerationSuggestion],
                           now: float) -> Recommendation | None:
        cfg, pcfg = self.config, self.config.pick
        pool = self._pool.get(channel, deque())
        while pool and now - pool[0].seen_at > pcfg.window_s:
            pool.popleft()
        scored, skipped = [], []
        answered = self._answered  # an OrderedDict: membership without a copy per batch
        for c in pool:
            why = skip_reason(c, pcfg, cfg.name, answered)
            if why:
                if c.message.id in new_ids:
                    skipped.append(SkippedMessage(c.message.id, c.message.user, why))
                continue
            scored.append((c, score_candidate(c, pcfg, cfg.name, now)))
        scored.sort(key=lambda cp: cp[1].score, reverse=True)
        picks = [cp for cp in scored if cp[1].score >= pcfg.min_score][: pcfg.max_picks]
        if not any(c.message.id in new_ids for c, _ in picks) and not mods:
            return None  # nothing new worth a recommendation
        memories = []
        # Under load (a degraded message has no embedding) the recommendation goes without
        # memories rather than paying an encoder pass here.
        if picks and (picks[0][0].embedding is not None or not _degraded(picks[0][0])):
            top = picks[0][0].message
            memories = recall(self.memory, top.text, top.viewer_key, cfg.memories_k, exclude_text=top.text,
                              exclude_id=top.id, vector=picks[0][0].embedding, floor=cfg.memory_relevance_floor,
                              lexical_bonus=cfg.memory_lexical_bonus, name=cfg.name)
        for c, _ in picks:
            self.mark_answered(c.message.id)
        recent = list(self._recent.get(channel, ()))[-cfg.recent_context:]
        rec = build_recommendation(channel=channel, picks=picks, skipped=skipped, moderation=mods, recent=recent,
                                   memories=memories, mood=self.mood_state(), name=cfg.name,
                                   persona=cfg.persona, now=now)
        self._recs.append(rec)
        self.stats["recommendations"] += 1
        self.stats["moderation_suggested"] += len(mods)
        return rec

    def process_batch(self, events: list) -> list[Recommendation]:
        """Synchronous core of :meth:`process`: update mood and return new recommendations."""
        with self._lock:
            now = self.clock()
            mods_by_channel: dict[str, list[ModerationSuggestion]] = {}
            new_ids: dict[str, set[str]] = {}
            for ev in events:
                mods = self._ingest(ev, now)
                new_ids.setdefault(ev.message.channel, set()).add(ev.message.id)
                if mods:
                    mods_by_channel.setdefault(ev.message.channel, []).extend(mods)
            self._update_expression(now)
            recs = []
            for channel, ids in new_ids.items():
                rec = self._recommend_channel(channel, ids, mods_by_channel.get(channel, []), now)
                if rec is not None:
                    recs.append(rec)
            return recs

    def _batch_and_mood(self, events: list) -> tuple[list[Recommendation], dict[str, Any]]:
        # The mood is computed here, in the worker thread, so the loop never takes the lock.
        return self.process_batch(events), self.mood_state()

    async def process(self, events: list) -> list[Recommendation]:
        """Stage entry point: process a batch off the loop when memory lookups may block, then
        deliver recommendations (bus, async iterators, callbacks) and run allowed moderation."""
        if not events:
            return []
        if self.memory is not None:
            recs, mood = await asyncio.to_thread(self._batch_and_mood, events)
        else:
            recs, mood = self._batch_and_mood(events)
        for rec in recs:
            if self.moderate and self.moderation_executor is not None:
                await self._execute_moderation(rec)
            await self._deliver(rec)
        self._publish("mood", mood)
        if self.clock() - self._last_save >= SAVE_EVERY_S:
            await asyncio.to_thread(self.save)
        return recs

    async def _execute_moderation(self, rec: Recommendation) -> None:
        for sug in rec.moderation:
            try:
                result = self.moderation_executor(sug)  # type: ignore[misc]
                if inspect.isawaitable(result):
                    result = await result
                sug.executed = bool(result)
                self.stats["moderation_executed"] += int(sug.executed)
            except Exception as exc:  # noqa: BLE001 - a failing executor must not stop the stream
                log.warning("moderation executor failed for %s: %s", sug.message_id, exc)

    async def _deliver(self, rec: Recommendation) -> None:
        self._publish("recommendations", rec.to_dict())
        for q in list(self._queues):
            if q.full():
                q.get_nowait()
            q.put_nowait(rec)
        for cb in list(self._callbacks):
            try:
                res = cb(rec)
                if inspect.isawaitable(res):
                    await res
            except Exception as exc:  # noqa: BLE001 - one bad consumer must not break the others
                log.warning("recommendation callback failed: %s", exc)

    def _publish(self, topic: str, item: Any) -> None:
        if self.bus is not None:
            self.bus.publish(topic, item)

    def next_recommendation(self) -> Recommendation | None:
        """The current best: the newest recommendation that has picks (else the newest at all)."""
        with self._lock:
            for rec in reversed(self._recs):
                if rec.picks:
                    return rec
            return self._recs[-1] if self._recs else None

    def recent_recommendations(self, limit: int = 10) -> list[Recommendation]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._recs))[:limit]

    async def recommendations(self, maxsize: int = 100) -> AsyncIterator[Recommendation]:
        """``async for rec in engine.recommendations()``: every new recommendation from now on."""
        q: asyncio.Queue[Recommendation] = asyncio.Queue(maxsize=maxsize)
        self._queues.append(q)
        try:
            while True:
                yield await q.get()
        finally:
            self._queues.remove(q)

    def on_recommendation(self, callback: RecommendationCallback) -> Callable[[], None]:
        """Call ``callback(rec)`` (sync or async) for each new recommendation; returns an unsubscribe."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def viewer_seen(self, viewer: str) -> ViewerSeen | None:
        return self.viewers.get(viewer)

    async def _tick_forever(self) -> None:
        """Publish the mood as it relaxes between messages, and save now and then."""
        interval = max(0.1, float(self.config.mood_publish_interval_s))
        while True:
            await asyncio.sleep(interval)
            state = self.mood_state()
            self._publish("mood", state)
            if self.clock() - self._last_save >= SAVE_EVERY_S:
                await asyncio.to_thread(self.save)
