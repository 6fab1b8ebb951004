"""Measures the assistant on the development data in ../shared/data (`make evaluate`).

(a) CLINC150 travel `val` through the trained model's NLU: in-scope intent accuracy and
    out-of-scope recall (a prediction of out_of_scope or nlu_fallback counts as out of scope).
(b) The airline tweets, each the first message of a fresh conversation: frustration recall
    (frustrated tweets handed off) and specificity (calm tweets left with the bot), disruption
    detection F1 (rows marked `unsure` left out) and the type accuracy on the detected ones.

Two ways to run (b):
- `--mode inprocess` (default): the trained model parses each tweet and the handoff
  policy's own decision logic (bot.assessment.assess) decides, as on a fresh tracker;
- `--mode gateway`: through the running system's HTTP API (docs/contract.md): a new
  conversation per tweet; status "waiting" means handed off, and the agent API gives the
  handoff's reason and disruption (needs --agent-token or BATON_AGENT_EMAIL/PASSWORD).

Results go to results/evaluation.json (only ids and predictions, never tweet text: the
tweets stay out of the repository).

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
OOS_LABELS = frozenset({"out_of_scope", "nlu_fallback"})
CLINC_FILE = "clinc150_travel_dev.json"
TWEETS_FILE = "airline_tweets_dev.csv"


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


def frustration_metrics(frustrated: Sequence[bool], handed_off: Sequence[bool]) -> Dict[str, Any]:
    positives = [h for f, h in zip(frustrated, handed_off) if f]
    negatives = [h for f, h in zip(frustrated, handed_off) if not f]
    return {
        "recall": _ratio(sum(positives), len(positives)),
        "specificity": _ratio(sum(not h for h in negatives), len(negatives)),
        "n_frustrated": len(positives),
        "n_calm": len(negatives),
    }


def disruption_metrics(gold: Sequence[str], predicted: Sequence[Optional[str]]) -> Dict[str, Any]:
    """Detection P/R/F1 of "any disruption" (gold `unsure` rows left out) and type accuracy."""
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
    frustration_score: float


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

    def outcome(self, text: str) -> Outcome:
        created = self._request("POST", "/api/conversations", {})
        conversation_id, token = created["id"], created["token"]
        answer = self._request("POST", f"/api/conversations/{conversation_id}/messages", {"text": text}, token)
        handed_off = answer.get("status") == "waiting"
        reason = disruption = intent = None
        score = 0.0
        if self.agent_token:
            detail = self._request("GET", f"/api/agent/conversations/{conversation_id}", token=self.agent_token)
            handoff = detail.get("handoff") or {}
            reason, disruption = handoff.get("reason"), handoff.get("disruption")
            customer = [m for m in detail.get("messages", []) if m.get("sender") == "customer"]
            nlu = (customer[-1].get("nlu") or {}) if customer else {}
            # The gateway keeps the intent's name (handoff/serializers.py nlu_annotation).
            intent = nlu.get("intent") if isinstance(nlu.get("intent"), str) else None
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
    # The frustration component on its own (score over the policy's threshold), for diagnosis.
    if any(by_frustration):
        threshold = frustration_threshold()
        result["frustration_component_only"] = frustration_metrics(frustrated, [s >= threshold for s in by_frustration])
    return result


TARGETS = {
    ("clinc", "in_scope_accuracy"): 0.97,
    ("clinc", "oos_recall"): 0.90,
    ("tweets", "frustration", "recall"): 0.90,
    ("tweets", "frustration", "specificity"): 0.85,
    ("tweets", "disruption", "f1"): 0.85,
    ("tweets", "disruption", "type_accuracy"): 0.85,
}


def target_report(results: Mapping[str, Any]) -> List[Dict[str, Any]]:
    report = []
    for path, target in TARGETS.items():
        value: Any = results
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is not None:
            report.append({"metric": ".".join(path), "value": value, "target": target, "met": value >= target})
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "baton.tar.gz")
    parser.add_argument("--mode", choices=["inprocess", "gateway"], default="inprocess")
    parser.add_argument("--gateway-url", default=f"http://127.0.0.1:{os.environ.get('BATON_PORT', '8000')}")
    parser.add_argument("--agent-token", default=os.environ.get("BATON_AGENT_TOKEN"))
    parser.add_argument("--data", type=Path, default=shared_data_dir())
    parser.add_argument("--limit", type=int, default=0, help="only the first N tweets (quick runs)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "evaluation.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)

    tweets = load_tweets(args.data)
    if args.limit:
        tweets = tweets[: args.limit]
    started = time.monotonic()
    results: Dict[str, Any] = {"mode": args.mode, "model": str(args.model), "data": str(args.data)}

    if args.mode == "inprocess":
        system = InProcessSystem(args.model)
        results["clinc"] = evaluate_clinc(system, load_clinc_val(args.data))
        outcomes = [system.outcome(p) for p in system.parse_many([t["text"] for t in tweets])]
    else:
        gateway = GatewaySystem(args.gateway_url, args.agent_token)
        if not gateway.agent_token:
            print("no agent token: disruption types cannot be read; only handoffs are counted", file=sys.stderr)
        outcomes = [gateway.outcome(t["text"]) for t in tweets]
        if args.model.exists():  # CLINC is an NLU measurement: always in-process
            results["clinc"] = evaluate_clinc(InProcessSystem(args.model), load_clinc_val(args.data))

    results["tweets"] = evaluate_tweets(outcomes, tweets)
    results["targets"] = target_report(results)
    results["seconds"] = round(time.monotonic() - started, 1)
    results["predictions"] = [
        {"id": t["id"], "handed_off": o.handed_off, "reason": o.reason, "disruption": o.disruption,
         "frustration_score": o.frustration_score}
        for t, o in zip(tweets, outcomes)
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    printable = {k: v for k, v in results.items() if k != "predictions"}
    print(json.dumps(printable, indent=2))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
