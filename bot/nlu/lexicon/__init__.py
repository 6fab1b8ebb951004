"""The word lists both detectors read, as compiled patterns and the small functions over them.

- common.py: what both detectors use: the `words` helper, sarcasm, VADER's polarity;
- frustration.py: the frustration signals and the calm cues (rule_signals, calm_cues);
- disruption.py: the disruption types' rules and the clauses that report no disruption.
"""
