"""The engine's moderation: decide every message, queue holds for review, execute with
``--moderate`` through the platform's backend, log every decision, and learn each channel's
norms from its own moderators.

The character engine calls :meth:`ModerationService.suggest` for every chat message (it replaces
the character engine's own moderator, so there is one decision per message) and hands the
suggestions to :meth:`execute` only when ``--moderate`` is on.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol

from companion.messages import ChatMessage
from companion.moderation.audit import AuditLog
from companion.moderation.calibration import Calibrator
from companion.moderation.decision import Decision
from companion.moderation.feedback import FeedbackStore, LabelledExample
from companion.moderation.features import ToxicityView, record_features, view_of
from companion.moderation.moderator import Moderator
from companion.moderation.policy import ModerationPolicy
from companion.moderation.review_queue import ReviewQueue
from companion.recommendation import ModerationSuggestion
from companion.records import AnalysisRecord

log = logging.getLogger(__name__)

RECENT_MESSAGES = 20000  # features kept per message id, so a later deletion can be learned from
OWN_ACTION_TTL_S = 120.0  # our own delete/timeout echoing back as CLEARMSG/CLEARCHAT is not a label
RECENT_PER_USER = 3  # a timeout/ban labels that many of the user's latest messages


class ModerationBackend(Protocol):
    """A platform connection that can act (Twitch Helix, Discord)."""

    async def moderate(self, suggestion: ModerationSuggestion) -> None: ...


@dataclass(slots=True)
class _Seen:
    channel: str
    platform: str
    viewer: str
    ts: float
    features: dict[str, float]
    label: bool | None = None  # set once a moderator acted on it


@dataclass(slots=True)
class ModerationStats:
    decided: int = 0
    acted: int = 0  # decisions other than allow
    held: int = 0
    queue_dropped: int = 0
    executed: int = 0
    failed: int = 0
    not_executed_off: int = 0  # --moderate is off
    no_backend: int = 0
    auth_errors: int = 0
    reviewed: int = 0
    examples: int = 0
    by_action: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) if k != "by_action" else dict(self.by_action) for k in self.__slots__}


class ModerationService:
    """See the module docstring. ``moderate`` is the ``--moderate`` flag."""

    def __init__(self, policy: ModerationPolicy, data_dir: Path, *, moderate: bool = False,
                 bus: Any = None) -> None:
        self.policy = policy
        self.moderate = moderate
        self.bus = bus
        root = Path(data_dir) / "moderation"
        root.mkdir(parents=True, exist_ok=True)
        self.calibrator = Calibrator(policy.calibration)
        self.feedback = FeedbackStore(root / "examples", max_examples=policy.calibration.max_examples)
        for example in self.feedback.load_all():
            self.calibrator.learn(example)
        self.moderator = Moderator(policy, self.calibrator)
        self.queue = ReviewQueue(root / "queue.json", capacity=policy.queue_size)
        self.audit = AuditLog(root / "audit.jsonl")
        self.backends: dict[str, ModerationBackend] = {}
        self.stats = ModerationStats()
        self._seen: OrderedDict[str, _Seen] = OrderedDict()
        self._by_user: OrderedDict[tuple[str, str], deque[str]] = OrderedDict()
        self._mod_active: dict[str, float] = {}  # channel -> ts of the last human moderator label
        self._own: OrderedDict[str, float] = OrderedDict()  # message ids / viewer keys we acted on
        self._lock = threading.RLock()
        self._runner: asyncio.Task | None = None
        self._actions: asyncio.Queue[ModerationSuggestion] | None = None
        self._owned: list[Any] = []  # backends this service opened (closed with it)

    # -- deciding -------------------------------------------------------------------------
    def register_backend(self, platform: str, backend: ModerationBackend) -> None:
        """Route this platform's actions to ``backend`` (its ``moderate(suggestion)``)."""
        self.backends[platform] = backend

    async def start(self, sources: list[tuple[str, Any]], env: Mapping[str, str] | None = None) -> None:
        """With ``--moderate``: register every source that can moderate (Discord) and, when
        ``TWITCH_CLIENT_ID`` is set or a Twitch source runs, the Helix backend, whose token and
        scopes are validated now. Raises :class:`~companion.connectors.twitch_helix.HelixAuthError`
        with a clear message when Twitch moderation cannot work."""
        if not self.moderate:
            return
        env = os.environ if env is None else env
        for name, src in sources:
            if callable(getattr(src, "moderate", None)):
                self.register_backend(name, src)
        wants_twitch = any(name == "twitch" for name, _ in sources) or bool(env.get("TWITCH_CLIENT_ID"))
        if wants_twitch and "twitch" not in self.backends:
            from companion.connectors.twitch_helix import HelixModerator

            helix = HelixModerator.from_env(env)
            try:
                info = await helix.start()
            except BaseException:
                await helix.close()
                raise
            self._owned.append(helix)
            self.register_backend("twitch", helix)
            log.info("twitch moderation through Helix as %s (scopes ok)", info.login)

    def suggest(self, message: ChatMessage, record: AnalysisRecord | None, ts: float,
                spam_repeats: int = 0) -> list[ModerationSuggestion]:
        """Decide one message; holds go to the review queue. The same signature as the character
        engine's moderator, which this replaces. Thread-safe."""
        view = view_of(record.toxicity if record is not None else None)
        return self.suggest_features(message, view, record_features(record), ts, spam_repeats)

    def suggest_features(self, message: ChatMessage, view: ToxicityView, features: dict[str, float], ts: float,
                         spam_repeats: int = 0) -> list[ModerationSuggestion]:
        """:meth:`suggest` on an already extracted view and features (benchmarks replay these)."""
        decision = self.moderator.decide_view(message, view, features, ts, spam_repeats)
        with self._lock:
            self.stats.decided += 1
            self._remember(message, ts, features)
            self._implicit_negatives(ts)
            if decision.action == "allow":
                return []
            self.stats.acted += 1
            self.stats.by_action[decision.action] = self.stats.by_action.get(decision.action, 0) + 1
        if decision.action == "hold":
            self._hold(message, decision, features)
        self.audit.write("decision", message_id=message.id, platform=message.platform, channel=message.channel,
                         user=message.user, moderate=self.moderate, decision=decision.to_dict())
        return suggestions_for(message, decision)

    def _hold(self, message: ChatMessage, decision: Decision, features: dict[str, float]) -> None:
        item, dropped = self.queue.hold(dict(
            message_id=message.id, platform=message.platform, channel=message.channel, user=message.user,
            user_id=message.user_id, text=message.text, ts=message.ts, held_at=time.time(), decision=decision,
            features=features))
        self.stats.held += 1
        if dropped is not None:
            self.stats.queue_dropped += 1
            self.audit.write("queue_dropped", item=dropped.to_dict(text=False), why="review queue full")
        self._publish({"type": "held", "item": item.to_dict()})

    def _publish(self, item: dict[str, Any]) -> None:
        bus = self.bus
        if bus is None:
            return
        publish = getattr(bus, "publish_threadsafe", None)
        try:
            (publish or bus.publish)("moderation", item)
        except RuntimeError:  # no loop bound yet
            pass

    # -- executing ------------------------------------------------------------------------
    async def execute(self, suggestion: ModerationSuggestion) -> bool:
        """Queue one suggestion for its platform's backend. True when it was handed to one;
        holds, ``--moderate`` off and platforms without a backend return False (and are logged)."""
        if suggestion.action == "hold":
            return False
        if not self.moderate:
            self.stats.not_executed_off += 1
            self.audit.write("not_executed", message_id=suggestion.message_id, action=suggestion.action,
                             why="--moderate is off")
            return False
        if self.backends.get(suggestion.platform) is None:
            self.stats.no_backend += 1
            self.audit.write("not_executed", message_id=suggestion.message_id, action=suggestion.action,
                             why=f"no moderation backend for platform {suggestion.platform!r}")
            log.warning("moderation: no backend for %s; %s %s not executed", suggestion.platform,
                        suggestion.action, suggestion.user)
            return False
        self._ensure_runner()
        assert self._actions is not None
        try:
            self._actions.put_nowait(suggestion)
        except asyncio.QueueFull:
            self.stats.failed += 1
            self.audit.write("execute_failed", message_id=suggestion.message_id, action=suggestion.action,
                             error="action queue full")
            return False
        return True

    def _ensure_runner(self) -> None:
        if self._runner is None or self._runner.done():
            self._actions = asyncio.Queue(maxsize=1000)
            self._runner = asyncio.create_task(self._run_actions(), name="moderation-actions")

    async def _run_actions(self) -> None:
        assert self._actions is not None
        while True:
            sug = await self._actions.get()
            try:
                await self.run_action(sug)
            finally:
                self._actions.task_done()

    async def run_action(self, sug: ModerationSuggestion) -> bool:
        """Execute one suggestion now through its backend; logs and counts the outcome."""
        from companion.connectors.twitch_helix import HelixAuthError

        backend = self.backends.get(sug.platform)
        if backend is None:
            self.stats.no_backend += 1
            return False
        with self._lock:
            now = time.time()
            self._own[sug.message_id] = now
            if sug.action == "timeout":
                self._own[f"{sug.platform}:{sug.user_id or sug.user.lower()}"] = now
            while len(self._own) > 5000:
                self._own.popitem(last=False)
        try:
            await backend.moderate(sug)
        except HelixAuthError as exc:
            self.stats.auth_errors += 1
            self.stats.failed += 1
            self.audit.write("execute_failed", message_id=sug.message_id, action=sug.action, error=str(exc))
            log.error("moderation stopped on %s: %s", sug.platform, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - a platform error costs only this action
            self.stats.failed += 1
            self.audit.write("execute_failed", message_id=sug.message_id, action=sug.action, error=repr(exc))
            log.warning("moderation %s on %s failed: %s", sug.action, sug.message_id, exc)
            return False
        sug.executed = True
        self.stats.executed += 1
        self.audit.write("executed", message_id=sug.message_id, platform=sug.platform, channel=sug.channel,
                         user=sug.user, action=sug.action, duration_s=sug.duration_s, reason=sug.reason)
        return True

    async def drain(self) -> None:
        """Wait until every queued action has run (tests, shutdown)."""
        if self._actions is not None and self._runner is not None and not self._runner.done():
            await self._actions.join()

    async def close(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.drain(), 10.0)
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        for backend in self._owned:
            await backend.close()
        self._owned.clear()

    # -- the review queue -----------------------------------------------------------------
    def queue_view(self) -> dict[str, Any]:
        return {"items": [i.to_dict() for i in self.queue.items()], "pending": len(self.queue),
                "capacity": self.queue.capacity, "dropped": self.queue.dropped, "moderate": self.moderate}

    async def review(self, item_id: str, verdict: str, reviewer: str = "dashboard") -> dict[str, Any] | None:
        """A reviewer's ``approve`` (leave the message) or ``deny`` (execute ``deny_action``).
        Returns the outcome, or None when no such item is pending. Both become labelled examples."""
        if verdict not in ("approve", "deny"):
            raise ValueError("decision must be 'approve' or 'deny'")
        item = self.queue.pop(item_id)
        if item is None:
            return None
        self.stats.reviewed += 1
        outcome: dict[str, Any] = {"id": item.id, "message_id": item.message_id, "decision": verdict,
                                   "executed": False, "action": None}
        if verdict == "deny":
            action = self.policy.deny_action
            sug = ModerationSuggestion(
                item.message_id, item.user, action, f"denied by a reviewer: {item.decision.reason}",
                duration_s=self.policy.timeout_s[0] if action == "timeout" else None, platform=item.platform,
                channel=item.channel, user_id=item.user_id, decision=item.decision)
            outcome["action"] = action
            if not self.moderate:
                outcome["why"] = "--moderate is off: logged, not executed"
            elif sug.platform not in self.backends:
                outcome["why"] = f"no moderation backend for platform {sug.platform!r}"
            else:
                outcome["executed"] = await self.run_action(sug)
        self.audit.write("review", reviewer=reviewer, item=item.to_dict(text=False), outcome=outcome)
        self._learn(LabelledExample(
            channel=item.channel, message_id=item.message_id, removed=verdict == "deny",
            source=f"review_{verdict}", ts=time.time(), features=item.features))
        with self._lock:
            seen = self._seen.get(item.message_id)
            if seen is not None:
                seen.label = verdict == "deny"
        self._publish({"type": "reviewed", "id": item.id, "decision": verdict})
        return outcome

    # -- learning from the channel's moderators -------------------------------------------
    def _remember(self, message: ChatMessage, ts: float, features: dict[str, float]) -> None:
        self._seen[message.id] = _Seen(message.channel, message.platform, message.viewer_key, ts, features)
        key = (message.channel, message.user.lower())
        ids = self._by_user.setdefault(key, deque(maxlen=RECENT_PER_USER))
        ids.append(message.id)
        self._by_user.move_to_end(key)
        if message.user_id:
            self._by_user[(message.channel, f"id:{message.user_id}")] = ids
            self._by_user.move_to_end((message.channel, f"id:{message.user_id}"))
        while len(self._by_user) > RECENT_MESSAGES:
            self._by_user.popitem(last=False)
        while len(self._seen) > RECENT_MESSAGES:
            mid, seen = self._seen.popitem(last=False)
            self._maybe_negative(mid, seen)

    def _implicit_negatives(self, now: float) -> None:
        """Messages left standing ``implicit_negative_after_s`` in a channel whose moderators are
        active are weak 'acceptable here' examples."""
        horizon = self.policy.calibration.implicit_negative_after_s
        while self._seen:
            mid, seen = next(iter(self._seen.items()))
            if now - seen.ts < horizon:
                break
            self._seen.popitem(last=False)
            self._maybe_negative(mid, seen)

    def _maybe_negative(self, message_id: str, seen: _Seen) -> None:
        weight = self.policy.calibration.implicit_negative_weight
        if seen.label is not None or weight <= 0 or seen.channel not in self._mod_active:
            return
        self._learn(LabelledExample(channel=seen.channel, message_id=message_id, removed=False, source="implicit",
                                    ts=seen.ts, features=seen.features, weight=weight))

    def _learn(self, example: LabelledExample) -> None:
        self.feedback.append(example)
        self.calibrator.learn(example)
        self.stats.examples += 1

    def observe(self, event: Any) -> int:
        """A platform moderation event (CLEARMSG, CLEARCHAT, ban, Discord deletion) by a human
        moderator becomes labelled examples for its channel. Our own actions echoing back are
        skipped. Returns how many examples were learned."""
        from companion.connectors.base import ModerationKind

        kind = getattr(event, "kind", None)
        learned = 0
        with self._lock:
            now = time.time()
            ids: list[str] = []
            if kind is ModerationKind.CLEARMSG and event.target_msg_id:
                if self._own.get(event.target_msg_id, 0) > now - OWN_ACTION_TTL_S:
                    return 0
                ids = [event.target_msg_id]
                source = "discord_delete" if event.platform == "discord" else "clearmsg"
                weight = 0.5 if event.platform == "discord" else 1.0  # authors delete their own too
            elif kind is ModerationKind.CLEARCHAT and (event.target_user or event.target_user_id):
                who = event.target_user_id or (event.target_user or "").lower()
                if self._own.get(f"{event.platform}:{who}", 0) > now - OWN_ACTION_TTL_S:
                    return 0
                key = (event.channel, f"id:{event.target_user_id}") if event.target_user_id else None
                recent = self._by_user.get(key) if key else None
                recent = recent or self._by_user.get((event.channel, (event.target_user or "").lower()), ())
                ids = list(recent)
                source = "ban" if event.duration is None else "clearchat"
                weight = 1.0
            else:
                return 0
            examples = []
            for mid in ids:
                seen = self._seen.get(mid)
                if seen is None or seen.label is not None:
                    continue
                seen.label = True
                examples.append(LabelledExample(channel=seen.channel, message_id=mid, removed=True, source=source,
                                                ts=seen.ts, features=seen.features, weight=weight))
            if ids:
                self._mod_active[event.channel] = now
        for example in examples:
            self._learn(example)
            learned += 1
        for mid in ids:
            held = self.queue.remove_message(mid)
            if held is not None:
                self.audit.write("review", reviewer="platform moderator", item=held.to_dict(text=False),
                                 outcome={"decision": "deny", "executed": False, "why": "removed on the platform"})
                self._publish({"type": "reviewed", "id": held.id, "decision": "deny"})
        if learned:
            self.audit.write("learned", channel=event.channel, source=source, examples=learned)
        return learned

    def forget_viewer(self, viewer_key: str) -> dict[str, int]:
        """``DELETE /api/viewers/{id}``: the viewer's held messages (their text) leave the queue.
        Examples keep no text or name; the audit log keeps names (not text) as the record of
        what was decided."""
        held = self.queue.remove_viewer(viewer_key)
        if held:
            self._publish({"type": "forgotten", "viewer": viewer_key})
        return {"held": held}

    def state(self) -> dict[str, Any]:
        """For ``GET /api/state`` and the moderation API."""
        return {"moderate": self.moderate, "pending": len(self.queue), "stats": self.stats.to_dict(),
                "backends": sorted(self.backends), "calibration": self.calibrator.summary_with_thresholds()}


def suggestions_for(message: ChatMessage, decision: Decision) -> list[ModerationSuggestion]:
    """The suggestions a decision turns into: a timeout also deletes the message."""
    def make(action: str, duration: int | None = None) -> ModerationSuggestion:
        return ModerationSuggestion(message.id, message.user, action, decision.reason, duration,
                                    platform=message.platform, channel=message.channel, user_id=message.user_id,
                                    decision=decision)

    if decision.action == "timeout":
        return [make("delete"), make("timeout", decision.duration_s)]
    if decision.action in ("delete", "hold"):
        return [make(decision.action)]
    return []
