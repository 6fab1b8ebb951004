"""Detects a disrupted trip in a customer message, with its type.

Rules come first: each type has patterns that need the customer's own situation
("my flight got cancelled"), and what-if or how-to clauses ("what happens if my flight is
delayed", "how do I cancel my booking") are cut out before matching. When no rule fires, a
logistic regression on the MiniLM sentence vector, trained on hand-written prototypes
(bot/nlu/data/disruption_examples.yml), may still name a type if it is confident.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Text, Tuple, Type

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoder import SentenceEncoderFeaturizer, sentence_embeddings
from bot.nlu.linear import LinearModel
from bot.nlu.minilm import shared_encoder

logger = logging.getLogger(__name__)

EXAMPLES_FILE = Path(__file__).parent / "data" / "disruption_examples.yml"
DISRUPTION = "disruption"
TYPES = (
    "cancelled",
    "delayed",
    "missed_connection",
    "lost_luggage",
    "damaged_luggage",
    "downgraded",
    "schedule_change",
)

_BAG = r"(?:bags?|luggage|suitcases?|baggage|backpack|golf (?:bag|clubs)|stroller|car ?seat|guitar|bike|bicycle|skis)"

# What-if and how-to clauses describe no disruption that has happened: they are removed first.
HYPOTHETICAL = re.compile(
    r"\b(?:if|in case|whether|what happens when|incase)\b[^.!?;]*"
    r"|\b(?:how|can|could|may) (?:do |can )?(?:i|we|you) (?:cancel|change|reschedule|report)\b[^.!?;]*"
    r"|\b(?:help (?:with |me )?|want to |wanna |like to |need to |trying to |try to |please )cancel\w*[^.!?;]*"
    r"|\bnot (?:been |be |yet )?(?:cancel+ed|delayed)\b"
    r"|\b(?:cancellation|delay|baggage|luggage|downgrade) (?:policy|policies|fees?|insurance|protection|"
    r"compensation rules|allowance)\b",
    re.IGNORECASE,
)

RULES: List[Tuple[str, Pattern[str]]] = [
    (
        "damaged_luggage",
        re.compile(
            _BAG + r"[^.!?]{0,40}\b(?:damag\w*|broke|broken|destroy\w*|ripped|torn|smash\w*|crack\w*|"
            r"soaked|ruined|dented|bent|busted|shattered)"
            r"|\b(?:damag\w*|broke|broken|destroy\w*|ripped|tore|smashed|cracked|ruined|busted)\b[^.!?]{0,25}" + _BAG,
            re.IGNORECASE,
        ),
    ),
    (
        "lost_luggage",
        re.compile(
            r"\blos(?:t|e|es|ing)\b[^.!?]{0,20}" + _BAG + r"|lost ?luggage|lost ?bag|missing " + _BAG
            + r"|" + _BAG + r"[^.!?]{0,40}\b(?:lost|missing|never (?:arrived|came|showed|made it)|"
            r"didn'?t (?:arrive|come|show|make it)|did not (?:arrive|make it|come)|not (?:arrived|here|delivered)|"
            r"hasn'?t (?:arrived|come|been delivered)|haven'?t (?:arrived|come|been delivered)|"
            r"still (?:not|in|at|missing)|left behind|delayed|went to|sent to|out for delivery|"
            r"(?:on|in) (?:a different|another|the wrong)|wrong (?:city|airport|flight))"
            r"|(?:where|wheres|where's) (?:is|are)? ?(?:my|our|the) " + _BAG
            + r"|(?:still )?no (?:sign of )?(?:my |our |the )?" + _BAG + r"\b"
            + r"|(?:get|got|find|locate|track|trace|deliver)\w* (?:my|our) " + _BAG + r"[^.!?]{0,20}(?:back|yet|delivered)"
            + r"|" + _BAG + r" claim (?:number|ticket|report)|missing (?:bag|baggage|luggage) report|delayed " + _BAG
            + r"|(?:update|news|word|info\w*) (?:on|about|regarding) (?:my|our|the) " + _BAG
            + r"|(?:waiting|wait|waited) (?:\w+ ){0,3}(?:for|on) (?:my |our |the )?" + _BAG
            + r"|" + _BAG + r"[^.!?]{0,25}(?:deliver|locat|track|trace)\w*",
            re.IGNORECASE,
        ),
    ),
    (
        "downgraded",
        re.compile(
            r"downgrad\w*|(?:bumped|moved|kicked|put)(?: me| us)? (?:from|out of|down from) (?:first|business|premium|"
            r"the first)|lost (?:my|our) (?:upgrade|first class|business class)|(?:paid|booked) (?:for )?(?:first|business)"
            r"(?: class)?[^.!?]{0,30}(?:economy|coach|back of the plane)",
            re.IGNORECASE,
        ),
    ),
    (
        "missed_connection",
        re.compile(
            r"\bmiss(?:ed)? (?:my |our |the |a )?(?:connect\w*|transfer|onward)|misconnect\w*"
            r"|connecting flight (?:left|departed|took off) without",
            re.IGNORECASE,
        ),
    ),
    (
        "cancelled",
        re.compile(
            r"\bcancel+(?:ed|ing|s)\b|\bcancel+ations?\b|\bcanx\w*|\bcxl+d?\b|\bcncl+d\b|\bscrapped\b"
            r"|\bflights? (?:is |are |still |was |were |got |get )+cancel\b",
            re.IGNORECASE,
        ),
    ),
    (
        "schedule_change",
        re.compile(
            r"schedule change|(?:changed|moved|rescheduled|retimed|switched) (?:my|our|the) (?:flight|itinerary|"
            r"departure|return|connection|trip)(?! (?:to|for) me\b)|(?:flight|departure) time[^.!?]{0,15}"
            r"(?:changed|moved)|non-?stop[^.!?]{0,30}(?:into|to) (?:a )?(?:1|one)[- ]?stop|involuntary (?:change|reroute)"
            r"|rerouted|re-routed",
            re.IGNORECASE,
        ),
    ),
    (
        "delayed",
        re.compile(
            r"\bdelay(?:ed|s|ing)?\b|\blate (?:flight|arrival|departure|plane|crew|pilot|inbound)"
            r"|\b(?:running|arrived|arriving|departed|leaving|took off|landed|be|am|are|is|was|were|being) (?:so |very |really )?late\b"
            r"|(?:hours?|hrs?|mins?|minutes|day) late\b|(?:on|at) (?:the )?(?:tarmac|runway)|still (?:at|on|in) the (?:gate|plane|airport)"
            r"|(?:sitting|sat|stuck|waiting) (?:at|on|in) (?:the )?(?:gate|plane|jetway)"
            r"|waiting (?:for|on) (?:a |the |our )?(?:pilot|crew|gate|plane|aircraft|captain|fuel|mechanic|de-?ic)"
            r"|(?:hasn'?t|haven'?t|still not|not yet) (?:taken off|left|departed|boarded|pushed)"
            r"|(?:never|not|nothing) (?:departs |leaves |arrives )?on time|pushed back (?:again|to|\d)"
            r"|keeps? getting (?:later|pushed)|mechanical (?:issue|problem|delay)|\bmx (?:issue|delay)"
            r"|should have (?:taken off|left|departed|landed|arrived|boarded)|supposed to (?:land|leave|depart|arrive|take off)"
            r"|been (?:at|in|stuck (?:at|in)) \w+(?: airport)? for (?:\d|over|almost|nearly|about)"
            r"|departure time keeps|(?:at|in) (?:the |this )?airport (?:for|since) "
            r"|(?:sitting|sat|stuck|waiting|waited) (?:on|in) (?:this|the|our|a) (?:plane|aircraft|runway)"
            r"|(?:hasn'?t|haven'?t|didn'?t|did not|doesn'?t) (?:even )?(?:take off|leave|depart|board)",
            re.IGNORECASE,
        ),
    ),
]


def strip_hypothetical(text: str) -> str:
    return HYPOTHETICAL.sub(" ", text.replace("’", "'"))


def rule_matches(text: str) -> List[Tuple[str, str]]:
    """(type, matched text) for every rule that fires, in the order of RULES."""
    factual = strip_hypothetical(text)
    found = []
    for kind, pattern in RULES:
        match = pattern.search(factual)
        if match:
            found.append((kind, match.group(0).strip()))
    return found


def choose_type(matches: List[Tuple[str, str]]) -> Optional[str]:
    """One type from the rules that fired.

    Luggage trouble is named by the luggage words; otherwise the flight's own fate wins over
    its consequences: a cancellation over a delay, a delay over a connection that "might" be
    missed, while a connection actually missed (and no cancellation) is the missed connection.
    """
    kinds = [kind for kind, _ in matches]
    if not kinds:
        return None
    for kind in ("damaged_luggage", "lost_luggage", "downgraded"):
        if kind in kinds:
            return kind
    if "cancelled" in kinds:
        return "cancelled"
    if "missed_connection" in kinds:
        evidence = dict(matches)["missed_connection"].lower()
        if "delayed" not in kinds or evidence.startswith("missed") or "misconnect" in evidence:
            return "missed_connection"
        return "delayed"
    if "delayed" in kinds:
        return "delayed"
    return kinds[0]


def load_examples(path: Path = EXAMPLES_FILE) -> Dict[str, List[str]]:
    with path.open(encoding="utf-8") as f:
        return {kind: list(texts) for kind, texts in yaml.safe_load(f).items()}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class DisruptionDetector(GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [SentenceEncoderFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "examples_file": None,  # None: the prototypes shipped next to this module
            "C": 5.0,
            # the embedding classifier alone names a type only above this probability
            "embedding_threshold": 0.5,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearModel] = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "DisruptionDetector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        path = Path(self.config["examples_file"]) if self.config["examples_file"] else EXAMPLES_FILE
        examples = load_examples(path)
        texts = [text for kind in examples for text in examples[kind]]
        labels = [kind for kind in examples for _ in examples[kind]]
        self.model = LinearModel.fit(shared_encoder().encode(texts), labels, C=self.config["C"])
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory, "disruption")
        return self._resource

    def detect(self, text: str, embedding: Optional[np.ndarray]) -> Dict[str, Any]:
        matches = rule_matches(text)
        kind = choose_type(matches)
        result: Dict[str, Any] = {"type": kind, "source": "rules" if kind else None, "evidence": [m for _, m in matches]}
        if kind is None and self.model is not None and embedding is not None:
            row = self.model.predict_proba(embedding[None, :])[0]
            best = int(np.argmax(row))
            if self.model.classes[best] != "none" and row[best] >= self.config["embedding_threshold"]:
                result.update(type=self.model.classes[best], source="embedding", confidence=round(float(row[best]), 4))
        return result

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        for message, embedding in zip(with_text, sentence_embeddings(with_text)):
            message.set(DISRUPTION, self.detect(message.get(TEXT), embedding), add_to_output=True)
        return messages

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "DisruptionDetector":
        try:
            with model_storage.read_from(resource) as directory:
                return cls(config, model_storage, resource, LinearModel.load(directory, "disruption"))
        except ValueError:
            logger.warning("No trained DisruptionDetector found; using the rules only.")
            return cls(config, model_storage, resource)
