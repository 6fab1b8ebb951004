"""Measures the assistant (`make evaluate`) and prints one table of issue #20's goals, in four columns:

- development: ../shared/data as the shipped model does on it. (a) CLINC150 travel `val`
  through the NLU: in-scope intent accuracy and out-of-scope recall (out_of_scope or
  nlu_fallback counts as out of scope). (b) The airline tweets, each the first message of a
  fresh conversation: frustration recall (frustrated tweets handed off) and specificity (calm
  ones left with the bot), disruption detection P/R/F1 (rows marked `unsure` left out), and
  the share of all disrupted customers handed off with the right type;
- dev 5-fold CV: the same, with every number tuned on that data refitted without the fold it
  is measured on (scripts/crossval.py; stratified folds, fixed seed);
- CV, rules held out (disruption only): the same folds, and in each the disruption rules'
  alternatives that get right only tweets of the fold measured are taken away, as if the
  rules had been written from the other four folds (crossval.cross_validate_rules_held_out):
  the estimate nearest to text that nobody here has seen;
- own set: our own chat messages (tests/bot/fixtures/own_eval/messages.yml), never trained
  or tuned on. A change counts only when it helps both this and the cross-validated figures.

A line under the table gives the disruption classifier alone, without the rules (5-fold CV
on the tweets): the rules were written against the development tweets and cross-validation
cannot refit them, while the classifier learned only from our own prototypes.

Two ways to run (b):
- `--mode inprocess` (default): the trained model parses each tweet and the handoff
  policy's own decision logic (bot.assessment.assess) decides, as on a fresh tracker;
- `--mode gateway`: through the running system's HTTP API (docs/contract.md): a new
  conversation per tweet; status "waiting" means handed off, and the agent API gives the
  handoff's reason and disruption (needs --agent-token or BATON_AGENT_EMAIL/PASSWORD).

Details go to results/evaluation.json (for tweets only ids and predictions, never their text:
the tweets stay out of the repository). `--no-cv` skips the cross-validation.

    PYTHONPATH=. .venv/rasa/bin/python scripts/evaluate.py [--limit N] [--mode gateway]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OOS_LABELS = frozenset({"out_of_scope", "nlu_fallback"})
CLINC_FILE = "clinc150_travel_dev.json"
TWEETS_FILE = "airline_tweets_dev.csv"
# Our own chat messages: measured only, never trained or tuned on (see the file's header).
OWN_SET = ROOT / "tests" / "bot" / "fixtures" / "own_eval" / "messages.yml"


def shared_data_dir() -> Path:
    return Path(os.environ.get("BATON_SHARED_DATA") or ROOT.parent / "shared" / "data")


# ----------------------------------------------------------------------------- metrics


def intent_metrics(gold: Sequence[str], predicted: Sequence[str], top_confusions: int = 10) -> Dict[str, Any]:
    """In-scope accuracy, out-of-scope recall, and the most frequent confusions."""
    in_scope = [(g, p) for g, p in zip(gold, predicted) if g != "out_of_scope"]
    oos = [p for g, p in zip(gold, predicted) if g == "out_of_scope"]
    confusions = Counter((g, p) for g, p in zip(gold, predicted) if g != p and not (g == "out_of_scope" and p in OOS_LABELS))
    return {
        "in_scope_accuracy": _ratio(sum(g == p for g, p in in_scope), len(in_scope)),
        "in_scope_rejected_as_oos": _ratio(sum(p in OOS_LABELS for _, p in in_scope), len(in_scope)),
        "oos_recall": _ratio(sum(p in OOS_LABELS for p in oos), len(oos)),
        "n_in_scope": len(in_scope),
        "n_oos": len(oos),
        "confusions": [{"gold": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(top_confusions)],
    }


def frustration_metrics(
    frustrated: Sequence[bool], handed_off: Sequence[bool], disrupted: Optional[Sequence[bool]] = None
) -> Dict[str, Any]:
    """Recall: frustrated messages handed off; specificity: calm ones left with the bot. A calm
    customer with a disrupted trip is meant to be handed off, so ``disrupted`` ones are not
    counted as calm (no calm tweet is disrupted: the crowd gave reasons to negative ones only)."""
    disrupted = disrupted or [False] * len(frustrated)
    positives = [h for f, h in zip(frustrated, handed_off) if f]
    negatives = [h for f, h, d in zip(frustrated, handed_off, disrupted) if not f and not d]
    return {
        "recall": _ratio(sum(positives), len(positives)),
        "specificity": _ratio(sum(not h for h in negatives), len(negatives)),
        "n_frustrated": len(positives),
        "n_calm": len(negatives),
    }


def disruption_metrics(gold: Sequence[str], predicted: Sequence[Optional[str]]) -> Dict[str, Any]:
    """Detection P/R/F1 of "any disruption" (gold `unsure` rows left out), the type accuracy on
    the detected ones, and the share of all disrupted ones handed off with the right type."""
    pairs = [(g, p) for g, p in zip(gold, predicted) if g != "unsure"]
    tp = sum(g != "none" and p is not None for g, p in pairs)
    fp = sum(g == "none" and p is not None for g, p in pairs)
    fn = sum(g != "none" and p is None for g, p in pairs)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
    detected = [(g, p) for g, p in pairs if g != "none" and p is not None]
    types = Counter((g, p) for g, p in detected)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "type_accuracy": _ratio(sum(g == p for g, p in detected), len(detected)),
        "right_type_of_disrupted": _ratio(sum(g == p for g, p in detected), tp + fn),
        "n_scored": len(pairs),
        "n_disrupted": tp + fn,
        "type_confusion": [{"gold": g, "predicted": p, "count": n} for (g, p), n in types.most_common()],
    }


def _ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


# ----------------------------------------------------------------------------- data


def load_clinc_val(directory: Path) -> List[Tuple[str, str]]:
    data = json.loads((directory / CLINC_FILE).read_text(encoding="utf-8"))
    return [(text, intent) for text, intent in data["val"]]


def load_tweets(directory: Path) -> List[Dict[str, str]]:
    with (directory / TWEETS_FILE).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------- running


@dataclass
class Outcome:
    """What the system did with one message as the first of a conversation."""

    intent: Optional[str]
    handed_off: bool
    reason: Optional[str]
    disruption: Optional[str]
    frustration_score: Optional[float]  # None: not read (through the gateway, without waiting)


def frustration_threshold(config_path: Path = ROOT / "config.yml") -> float:
    """The handoff policy's threshold, as configured."""
    import yaml

    from bot.assessment import FRUSTRATION_THRESHOLD

    config = yaml.safe_load(config_path.read_text())
    for policy in config.get("policies") or []:
        if str(policy.get("name", "")).endswith("HandoffPolicy"):
            return float(policy.get("frustration_threshold", FRUSTRATION_THRESHOLD))
    return FRUSTRATION_THRESHOLD


class InProcessSystem:
    """The trained model's NLU plus the handoff policy's decision, on a fresh conversation."""

    def __init__(self, model_path: Path) -> None:
        from rasa.core.agent import Agent

        self.agent = Agent.load(str(model_path))
        self.threshold = frustration_threshold()

    def parse_many(self, texts: Iterable[str], batch_size: int = 64) -> List[Dict[str, Any]]:
        """Parses in batches through the model's NLU graph, as Agent.parse_message does one
        message at a time (the sentence encoder is much faster on a batch)."""
        from rasa.core.channels import UserMessage
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.core.trackers import DialogueStateTracker

        processor = self.agent.processor
        assert processor is not None
        texts = list(texts)
        # Similar lengths in a batch keep the encoder's padding small; the order is restored.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parsed: List[Dict[str, Any]] = [{} for _ in texts]
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            batch = [UserMessage(texts[i]) for i in indices]
            results = processor.graph_runner.run(
                inputs={PLACEHOLDER_MESSAGE: batch, PLACEHOLDER_TRACKER: DialogueStateTracker("evaluate", [])},
                targets=[processor.model_metadata.nlu_target],
            )
            for index, message in zip(indices, results[processor.model_metadata.nlu_target]):
                parse_data: Dict[str, Any] = {"text": "", "intent": {"name": None, "confidence": 0.0}, "entities": []}
                parse_data.update(message.as_dict(only_output_properties=True))
                parsed[index] = parse_data
        return parsed

    def component(self, kind: type) -> Any:
        """The model's trained instance of an NLU component (Rasa keeps them in its graph
        runner's nodes; there is no public accessor)."""
        processor = self.agent.processor
        assert processor is not None
        for node in processor.graph_runner._instantiated_nodes.values():  # type: ignore[attr-defined]
            if isinstance(node._component, kind):
                return node._component
        raise LookupError(f"no {kind.__name__} in the model")

    def outcome(self, parse_data: Mapping[str, Any]) -> Outcome:
        from bot.assessment import assess
        from bot.conversation import UserTurn, disruption_of, frustration_of

        frustration = frustration_of(parse_data)
        turn = UserTurn(
            text=str(parse_data.get("text") or ""),
            intent=(parse_data.get("intent") or {}).get("name"),
            entities=list(parse_data.get("entities") or []),
            frustration_score=frustration["score"],
            frustration_signals=frustration["signals"],
            disruption=disruption_of(parse_data).get("type"),
        )
        assessment = assess([turn], self.threshold)
        return Outcome(
            intent=turn.intent,
            handed_off=assessment.reason is not None,
            reason=assessment.reason,
            disruption=assessment.disruption if assessment.reason is not None else None,
            frustration_score=frustration["score"],
        )


class GatewaySystem:
    """The running system, through the gateway's HTTP API (docs/contract.md)."""

    def __init__(self, base_url: str, agent_token: Optional[str], timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.agent_token = agent_token or self._login()

    def _request(self, method: str, path: str, body: Optional[dict] = None, token: Optional[str] = None) -> Any:
        headers = {"Content-Type": "application/json", "Origin": self.base_url}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        for _ in range(20):
            request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode() or "null")
            except urllib.error.HTTPError as error:
                if error.code != 429:
                    raise
                # The gateway's rate limit: wait as it says, as the widget does.
                time.sleep(float(error.headers.get("Retry-After") or 1))
        raise RuntimeError(f"{path}: still rate limited after 20 tries")

    def _login(self) -> Optional[str]:
        email, password = os.environ.get("BATON_AGENT_EMAIL"), os.environ.get("BATON_AGENT_PASSWORD")
        if not (email and password):
            return None
        return self._request("POST", "/api/agent/login", {"email": email, "password": password})["token"]

    def _customer_nlu(self, conversation_id: str, wait: float = 5.0) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """The conversation as agents see it, and what the bot read of the customer's message.
        The gateway writes that reading after the bot's answer, with its next transaction (at
        most handoff.storage.group_commit.ANNOTATION_DELAY later): read again until it is there."""
        deadline = time.monotonic() + wait
        while True:
            detail = self._request("GET", f"/api/agent/conversations/{conversation_id}", token=self.agent_token)
            customer = [m for m in detail.get("messages", []) if m.get("sender") == "customer"]
            nlu = (customer[-1].get("nlu") or {}) if customer else {}
            if nlu or time.monotonic() >= deadline:
                return detail, nlu
            time.sleep(0.1)

    def outcome(self, text: str, wait_for_nlu: bool = True) -> Outcome:
        """``wait_for_nlu`` False: the bot's reading of an answered message (its intent and
        frustration score) may be missing; the handoff, its reason and disruption never are."""
        created = self._request("POST", "/api/conversations", {})
        conversation_id, token = created["id"], created["token"]
        answer = self._request("POST", f"/api/conversations/{conversation_id}/messages", {"text": text}, token)
        handed_off = answer.get("status") == "waiting"
        reason = disruption = intent = score = None
        if self.agent_token:
            detail, nlu = self._customer_nlu(conversation_id, wait=5.0 if wait_for_nlu else 0.0)
            handoff = detail.get("handoff") or {}
            reason, disruption = handoff.get("reason"), handoff.get("disruption")
            # The gateway keeps the intent's name (handoff/live/serializers.py nlu_annotation).
            intent = nlu.get("intent") if isinstance(nlu.get("intent"), str) else None
            if nlu:
                score = float((nlu.get("frustration") or {}).get("score") or 0.0)
            if not handed_off:
                disruption = None
        return Outcome(intent=intent, handed_off=handed_off, reason=reason, disruption=disruption, frustration_score=score)


def evaluate_clinc(system: InProcessSystem, rows: List[Tuple[str, str]]) -> Dict[str, Any]:
    parsed = system.parse_many([text for text, _ in rows])
    predicted = [(p.get("intent") or {}).get("name") or "" for p in parsed]
    return intent_metrics([intent for _, intent in rows], predicted)


def evaluate_tweets(outcomes: List[Outcome], tweets: List[Dict[str, str]]) -> Dict[str, Any]:
    frustrated = [t["frustrated"] == "1" for t in tweets]
    handed_off = [o.handed_off for o in outcomes]
    by_frustration = [o.frustration_score for o in outcomes]
    result = {
        "n": len(tweets),
        "frustration": frustration_metrics(frustrated, handed_off),
        "disruption": disruption_metrics([t["disruption"] for t in tweets], [o.disruption for o in outcomes]),
        "handoff_reasons": dict(Counter(o.reason or "none" for o in outcomes)),
    }
    # The frustration component on its own (score over the policy's threshold), for diagnosis:
    # only when every score is known (through the gateway, answered tweets' may not be read).
    if None not in by_frustration and any(by_frustration):
        threshold = frustration_threshold()
        result["frustration_component_only"] = frustration_metrics(frustrated, [s >= threshold for s in by_frustration])
    return result


# Issue #20's goals, each checked on the shipped model, the cross-validated figures and our own set.
TARGETS = {
    ("frustration", "recall"): 0.90,
    ("frustration", "specificity"): 0.85,
    ("disruption", "f1"): 0.85,
    ("disruption", "right_type_of_disrupted"): 0.85,
    ("clinc", "in_scope_accuracy"): 0.98,
    ("clinc", "oos_recall"): 0.92,
}
ROWS = [
    ("frustration recall", ("frustration", "recall")),
    ("frustration specificity", ("frustration", "specificity")),
    ("disruption F1", ("disruption", "f1")),
    ("  precision", ("disruption", "precision")),
    ("  recall", ("disruption", "recall")),
    ("right type, of all disrupted", ("disruption", "right_type_of_disrupted")),
    ("CLINC in-scope accuracy", ("clinc", "in_scope_accuracy")),
    ("CLINC out-of-scope recall", ("clinc", "oos_recall")),
]
COLUMNS = [("dev", "development"), ("cv", "dev 5-fold CV"), ("cv_rules", "CV, rules held out"), ("own", "own set")]


def _lookup(results: Mapping[str, Any], path: Sequence[str]) -> Optional[float]:
    value: Any = results
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, (int, float)) else None


def target_report(results: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Each goal in each column of ``results`` ({"dev": {...}, "cv": {...}, "own": {...}})."""
    report = []
    for column, _ in COLUMNS:
        for path, target in TARGETS.items():
            value = _lookup(results.get(column) or {}, path)
            if value is not None:
                report.append({"set": column, "metric": ".".join(path), "value": value, "target": target,
                               "met": value >= target})
    return report


def summary_table(results: Mapping[str, Any]) -> str:
    """One table: every measure of the issue, its goal, and its value in each column (`*`: goal
    missed; `-`: not measured)."""
    header = ["measure", "goal"] + [title for _, title in COLUMNS]
    lines = [header]
    for title, path in ROWS:
        target = TARGETS.get(path)
        cells = [title, f">= {target:.2f}" if target is not None else ""]
        for column, _ in COLUMNS:
            value = _lookup(results.get(column) or {}, path)
            if value is None:
                cells.append("-")
            else:
                cells.append(f"{value:.3f}" + (" *" if target is not None and value < target else ""))
        lines.append(cells)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    rendered = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in lines]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    sizes = results.get("sizes") or {}
    if sizes:
        rendered.append("n: " + ", ".join(f"{name} {count}" for name, count in sizes.items()))
    return "\n".join(rendered)


# ----------------------------------------------------------------------------- our own set


def load_own_set(path: Path = OWN_SET) -> List[Dict[str, Any]]:
    """One row per message: text, frustrated, disruption ("none" for none), intent (or None)."""
    import yaml

    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return [
        {"text": str(text), "frustrated": bool(group["frustrated"]), "disruption": str(group["disruption"]),
         "intent": group.get("intent")}
        for group in groups
        for text in group["texts"]
    ]


def evaluate_messages(outcomes: List[Outcome], rows: List[Mapping[str, Any]]) -> Dict[str, Any]:
    """The measures on labelled messages (our own set): frustration, disruption, and intents on
    the plain questions that carry a CLINC intent."""
    frustrated = [bool(r["frustrated"]) for r in rows]
    disrupted = [r["disruption"] != "none" for r in rows]
    labelled = [(r["intent"], o.intent or "") for r, o in zip(rows, outcomes) if r.get("intent")]
    return {
        "n": len(rows),
        "frustration": frustration_metrics(frustrated, [o.handed_off for o in outcomes], disrupted),
        "disruption": disruption_metrics([r["disruption"] for r in rows], [o.disruption for o in outcomes]),
        "clinc": intent_metrics([g for g, _ in labelled], [p for _, p in labelled]),
    }


# ----------------------------------------------------------------------------- cross-validation


def pipeline_setting(component_suffix: str, key: str, default: float, config_path: Path = ROOT / "config.yml") -> float:
    import yaml

    for component in yaml.safe_load(config_path.read_text())["pipeline"]:
        if str(component.get("name", "")).endswith(component_suffix):
            return float(component.get(key, default))
    return default


def top_intent(parse_data: Mapping[str, Any]) -> Tuple[str, float]:
    """The best intent before the FallbackClassifier replaced it (if it did), and its confidence."""
    for ranked in parse_data.get("intent_ranking") or []:
        if ranked.get("name") != "nlu_fallback":
            return str(ranked["name"]), float(ranked.get("confidence") or 0.0)
    intent = parse_data.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def disruption_candidates(detector: Any, texts: List[str]) -> List[Any]:
    """What the model's detector sees in each text before its threshold."""
    from bot.nlu.disruption import rules
    from bot.nlu.minilm import shared_encoder
    from scripts.crossval import DisruptionCandidate

    model = detector.model
    probabilities = detector.probabilities(texts, shared_encoder().encode(texts))
    candidates = []
    for text, row in zip(texts, probabilities):
        best = int(np.argmax(row))
        candidates.append(DisruptionCandidate(
            rule_type=rules.choose_type(rules.rule_matches(text)),
            embedding_type=model.classes[best],
            embedding_probability=float(row[best]),
            only_hypothetical=rules.only_hypothetical(text),
            handled=rules.handled_reason(text) is not None,
        ))
    return candidates


def cross_validation(
    system: "InProcessSystem", tweets: List[Dict[str, str]], parsed_tweets: List[Mapping[str, Any]],
    clinc: List[Tuple[str, str]], parsed_clinc: List[Mapping[str, Any]], specificity: float,
) -> Dict[str, Any]:
    """The development figures with every tuned number refitted without the fold it is measured
    on (scripts/crossval.py)."""
    from bot.assessment import HANDOFF_INTENT
    from bot.conversation import disruption_of
    from bot.nlu.disruption.component import DisruptionDetector
    from bot.nlu.frustration.component import FrustrationScorer
    from scripts import crossval, fit_frustration

    texts = [t["text"] for t in tweets]
    gold_intents = [intent for _, intent in clinc]
    intents = crossval.cross_validate_fallback(
        gold_intents, [top_intent(p) for p in parsed_clinc], pipeline_setting("FallbackClassifier", "threshold", 0.3)
    )
    # The model's own components, so the figures are those of the model measured.
    detector, scorer = system.component(DisruptionDetector), system.component(FrustrationScorer)
    names = [n for n in scorer.config["weights"] if n not in fit_frustration.UNFITTED]
    X, capped = fit_frustration.design(scorer, texts, names)
    gold_disruption = [t["disruption"] for t in tweets]
    candidates = disruption_candidates(detector, texts)
    disruptions = crossval.cross_validate_disruption(
        gold_disruption, candidates, float(detector.config["embedding_threshold"]),
        float(detector.config["type_override"]),
    )
    # The classifier alone, without the rules: it never saw a tweet, and the rules were
    # written against these tweets, so this is the part of the detector that cannot overfit them.
    alone = crossval.cross_validate_disruption(
        gold_disruption, [replace(c, rule_type=None) for c in candidates], float(detector.config["embedding_threshold"])
    )
    # The rules as if written without the fold: each alternative that gets right only tweets of
    # the fold measured is taken away for it.
    held_out = crossval.cross_validate_rules_held_out(
        gold_disruption, candidates, crossval.RuleHits(texts), float(detector.config["embedding_threshold"]),
        float(detector.config["type_override"]),
    )
    y = np.array([t["frustrated"] == "1" for t in tweets], dtype=int)
    other = np.array(
        [(p.get("intent") or {}).get("name") == HANDOFF_INTENT or bool(disruption_of(p).get("type")) for p in parsed_tweets]
    )
    frustration = crossval.cross_validate_frustration(X, y, capped, other, specificity)
    return {
        "frustration": frustration_metrics(list(y == 1), frustration["predictions"]),
        "disruption": disruption_metrics(gold_disruption, disruptions["predictions"]),
        "disruption_classifier_alone": disruption_metrics(gold_disruption, alone["predictions"]),
        "disruption_rules_held_out": {
            **disruption_metrics(gold_disruption, held_out["predictions"]),
            "alternatives": held_out["alternatives"], "helping": held_out["helping"],
            "taken_away": held_out["taken_away"],
        },
        "clinc": intent_metrics(gold_intents, intents["predictions"]),
        "chosen": {"frustration_cutoff": frustration["chosen"], "embedding_threshold": disruptions["chosen"],
                   "embedding_threshold_rules_held_out": held_out["chosen"],
                   "fallback_threshold": intents["chosen"]},
    }


# ----------------------------------------------------------------------------- main


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "baton.tar.gz")
    parser.add_argument("--mode", choices=["inprocess", "gateway"], default="inprocess")
    parser.add_argument("--gateway-url", default=f"http://127.0.0.1:{os.environ.get('BATON_PORT', '8000')}")
    parser.add_argument("--agent-token", default=os.environ.get("BATON_AGENT_TOKEN"))
    parser.add_argument("--data", type=Path, default=shared_data_dir())
    parser.add_argument("--own", type=Path, default=OWN_SET, help="our own labelled chat messages")
    parser.add_argument("--limit", type=int, default=0, help="only the first N tweets (quick runs)")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation (quick runs)")
    parser.add_argument("--specificity", type=float, default=0.855,
                        help="the calm share the frustration cutoff keeps when refitted (as fit_frustration.py)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "evaluation.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)

    tweets = load_tweets(args.data)
    if args.limit:
        tweets = tweets[: args.limit]
    own = load_own_set(args.own)
    clinc = load_clinc_val(args.data)
    started = time.monotonic()
    results: Dict[str, Any] = {"mode": args.mode, "model": str(args.model), "data": str(args.data)}

    # CLINC and the cross-validation are NLU measurements: always in-process.
    system = InProcessSystem(args.model)
    parsed_clinc = system.parse_many([text for text, _ in clinc])
    parsed_tweets = system.parse_many([t["text"] for t in tweets])
    if args.mode == "inprocess":
        outcomes = [system.outcome(p) for p in parsed_tweets]
        own_outcomes = [system.outcome(p) for p in system.parse_many([r["text"] for r in own])]
    else:
        gateway = GatewaySystem(args.gateway_url, args.agent_token)
        if not gateway.agent_token:
            print("no agent token: disruption types cannot be read; only handoffs are counted", file=sys.stderr)
        # The tweets' measures need only the handoffs: no waiting for each answered one's reading.
        outcomes = [gateway.outcome(t["text"], wait_for_nlu=False) for t in tweets]
        own_outcomes = [gateway.outcome(r["text"]) for r in own]

    dev = evaluate_tweets(outcomes, tweets)
    dev["clinc"] = intent_metrics([intent for _, intent in clinc],
                                  [(p.get("intent") or {}).get("name") or "" for p in parsed_clinc])
    results["dev"] = dev
    if not args.no_cv:
        results["cv"] = cross_validation(system, tweets, parsed_tweets, clinc, parsed_clinc, args.specificity)
        results["cv_rules"] = {"disruption": results["cv"].pop("disruption_rules_held_out")}
    results["own"] = evaluate_messages(own_outcomes, own)
    results["sizes"] = {"tweets": len(tweets), "CLINC val": len(clinc), "own messages": len(own)}
    results["targets"] = target_report(results)
    results["seconds"] = round(time.monotonic() - started, 1)
    results["predictions"] = [
        {"id": t["id"], "handed_off": o.handed_off, "reason": o.reason, "disruption": o.disruption,
         "frustration_score": o.frustration_score}
        for t, o in zip(tweets, outcomes)
    ]
    # Our own messages are ours: their predictions may be written with their text.
    results["own_predictions"] = [
        {"text": r["text"], "gold": {"frustrated": r["frustrated"], "disruption": r["disruption"], "intent": r["intent"]},
         "intent": o.intent, "handed_off": o.handed_off, "reason": o.reason, "disruption": o.disruption}
        for r, o in zip(own, own_outcomes)
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(summary_table(results))
    alone = (results.get("cv") or {}).get("disruption_classifier_alone")
    if alone:
        print(f"disruption by the classifier alone, no rules (dev 5-fold CV): F1 {alone['f1']:.3f} "
              f"(P {alone['precision']:.3f} / R {alone['recall']:.3f}), right type {alone['right_type_of_disrupted']:.3f}")
    held_out = (results.get("cv_rules") or {}).get("disruption")
    if held_out:
        print(f"rules held out: {held_out['helping']} of the rules' {held_out['alternatives']} alternatives get some "
              f"tweet right on their own; taken away per fold: {', '.join(map(str, held_out['taken_away']))}")
    print(f"details (confusions, chosen numbers, predictions) in {args.out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
