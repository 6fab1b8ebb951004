"""Detects a disrupted trip in a customer message, with its type.

Rules come first: each type has patterns that need the customer's own situation
("my flight got cancelled", "stuck at the gate for two hours", "landed without my bag"), and
clauses that report none are cut out before matching: what-if and how-to ("what happens if my
flight is delayed", "how do I cancel my booking"), status questions ("is flight 12 delayed?"),
negations and concessions ("never been delayed", "despite the delay ..."), and cancellations
of the customer's own or of something other than a flight ("I cancelled my hotel"). When no
rule fires, a logistic regression on the MiniLM sentence vector, trained on hand-written
prototypes (bot/nlu/data/disruption_examples.yml), may still name a type if it is confident,
unless the message named a disruption only in such a cut-out clause.

A disruption the customer reports as dealt with and thanks for ("thanks for rebooking me after
the cancellation") is not handed off: the detector reports no type, and says under `handled`
which type it saw and why it let it go (handled_reason).

The modules:
- bot/nlu/lexicon/disruption.py (shared lexicon): the types, their rules, the cut-out clauses
  and the words of a disruption already dealt with;
- rules.py: the pure functions over that lexicon (rule_matches, choose_type, handled_reason);
- component.py: DisruptionDetector, the Rasa component: the rules, then the embedding
  classifier, then the handled check.
"""
