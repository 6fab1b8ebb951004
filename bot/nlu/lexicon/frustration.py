"""The frustration lexicon: named signals (rule_signals) and the calm cues that lower a score."""

from __future__ import annotations

import re
from typing import List, Pattern, Tuple

from bot.nlu.lexicon.common import SARCASM, words

# Each rule is (signal, pattern), matched case-insensitively on the apostrophe-normalised text.
LEXICON: List[Tuple[str, Pattern[str]]] = [
    (
        "angry_wording",
        words(
            r"ridiculous", r"unacceptable", r"unbelievabl", r"worst\b", r"terribl", r"horribl",
            r"horrendous", r"awful", r"pathetic", r"disgrac", r"disgust", r"furious", r"angry",
            r"livid", r"upset", r"(?:very |so |really |extremely )?disappoint", r"useless",
            r"incompeten", r"rude\b", r"(?:is|'s|are|such|total|complete) a joke\b", r"nightmare", r"fed up", r"sick (?:and tired )?of",
            r"frustrat", r"annoy", r"appall", r"hate\b", r"sucks?\b", r"\bfail", r"lousy",
            r"shameful", r"embarrass", r"not happy", r"unhappy", r"not impressed", r"not cool",
            r"poor (?:service|customer|communication|job|experience)", r"no excuse",
            r"ruin", r"rip ?off", r"scam", r"cheated", r"ridic", r"absurd", r"insane",
            r"outrage", r"inexcusable", r"unprofessional", r"mess\b", r"fiasco", r"clueless",
            r"what a joke", r"are you (?:kidding|serious)", r"you(?:'ve| have)? got to be kidding",
            r"seriously\?", r"really\?", r"smh\b", r"ugh+\b", r"(?:^|\s)sigh\b", r"wors[te]",
            r"never again", r"lost a customer", r"stranded", r"no one (?:cares|helps|answers)",
            r"nobody (?:cares|helps|answers|knows|tells)", r"don'?t care", r"doesn'?t care",
            r"still (?:no|nothing|waiting|not)", r"no (?:help|response|reply|answer|update|info)",
            r"not (?:acceptable|ok|okay|good enough)", r"hung up", r"disconnected",
            r"lied\b", r"lying\b", r"excuses?\b", r"lame\b", r"bad (?:service|experience|customer)",
            r"crazy\b", r"dissatisf", r"unhelpful", r"less than helpful", r"not (?:very |at all |too )?helpful",
            r"\w+(?:fail|sucks)\b",  # run-together tags: "#airlinefail"
        ),
    ),
    ("sarcasm", SARCASM),
    (
        "long_wait",
        re.compile(
            r"on hold|hold (?:time|for)|(?:been|still|keep|kept) waiting|waiting (?:for|on) (?:\w+ ){0,3}"
            r"(?:hours?|hrs?|forever|days?|weeks?|ages|an? (?:hour|answer|response|reply|call))"
            r"|(?:\d+|two|three|four|five|six|several|many|few) ?(?:\+ )?(?:hours?|hrs?|days?|weeks?|mins?|minutes)"
            r"\b.{0,30}(?:wait|hold|line|tarmac|runway|gate|sitting|stuck|later|late|delay|no (?:word|update|response))"
            r"|(?:wait|hold|sitting|stuck|sat)(?:ing)?\b.{0,30}(?:\d+|two|three|several) ?(?:hours?|hrs?|days?|mins?|minutes)"
            r"|call(?:ed|ing)? back|no (?:one|body) (?:answer|pick)|(?:stuck|sitting|sat) (?:on|at|in) the "
            r"(?:tarmac|runway|gate|plane|airport)|still on the (?:plane|tarmac|runway)|forever\b",
            re.IGNORECASE,
        ),
    ),
    (
        # The customer's problem is still not solved, or they cannot reach anyone.
        "unresolved_problem",
        re.compile(
            r"\b(?:doesn'?t|didn'?t|does not|did not|won'?t|isn'?t) (?:really )?(?:help|answer|work|solve|fix)"
            r"|\b(?:can'?t|cannot|couldn'?t|unable to) (?:get (?:an? |through|anyone|a hold|ahold|a human|a person|help|"
            r"my money|a refund)|reach|speak to|talk to|find anyone)|no (?:one|body) (?:to help|helped|will help|can help)"
            r"|\bwhy (?:don'?t|won'?t|can'?t|didn'?t|wouldn'?t|isn'?t|aren'?t|do|does|did|is|are) (?:you|u|they|ur|your)\b"
            r"|\b(?:won'?t|refuse[sd]? to|will not) (?:honor|refund|reimburse|help|compensate|let me|give)"
            r"|\bstill (?:need|haven'?t|have not|don'?t have|no\b|nothing|not)|not looking forward"
            r"|\b(?:expect|want|demand|need) (?:a |my )?(?:full )?(?:refund|reimbursement|compensation)"
            r"|\bshould(?:n'?t| not) (?:take|have to|be)|\bhave to pay\b|charg\w* (?:me|us) (?:again|twice|extra|for)"
            r"|\b(?:no|zero|without) (?:info\w*|communication|explanation|apology|answers?|response|update|help|"
            r"entertainment|food|water|wifi|compensation)\b|\bnot (?:once|even)\b"
            r"|\b(?:would|it'?d) (?:be|have been) (?:nice|lovely|helpful|good)\b"
            r"|\b(?:not|isn'?t|aren'?t|stop) (?:really )?helping\b|\b(?:doesn'?t|don'?t|do not|does not) understand\b"
            r"|\b(?:copy(?: and |-| )paste|canned|automated) (?:response|reply|answer|message)",
            re.IGNORECASE,
        ),
    ),
    (
        "threat_to_leave",
        re.compile(
            r"never (?:again|fly|flying|book|booking|use|using|travel|choose|recommend)|last time (?:i|we)"
            r"|switch(?:ing)? (?:to|airlines)|(?:another|other|different|a better) airline|lost (?:a|my|our) "
            r"(?:customer|business|loyalty)|won'?t be (?:flying|booking|using|back)|(?:file|filing|lodge|make) a "
            r"(?:formal )?complaint|complain(?:ing)? (?:to|with)|department of transportation|\bdot\b|\bbbb\b"
            r"|better business bureau|lawyer|attorney|\bsue\b|small claims|chargeback|dispute (?:the|my) charge"
            r"|(?:post|tweet|write|blog)(?:ing)? (?:about|this)|tell (?:every|all)|going viral|social media"
            r"|cancel (?:my|our) (?:membership|account|credit card)|done with (?:you|this)|i'?m done\b|take my business",
            re.IGNORECASE,
        ),
    ),
    (
        # Disappointment and milder complaint words that angry_wording leaves out.
        "disappointment",
        words(
            r"garbage", r"inedible", r"overkill", r"unfair", r"headache", r"unnerving", r"non[- ]?helpful",
            r"robotic", r"meh\b", r"bleh", r"h8\b", r"too little,? too late", r"let ?down", r"letdown",
            r"sloo+w", r"so slow", r"disrespect", r"neglect", r"ignored", r"ignoring", r"mislead", r"misleading",
            r"false (?:promise|information|advertis)", r"wrong again", r"waste of", r"wasted", r"no way to",
            r"poorly", r"poor\b", r"shame", r"sad\b", r"bummed", r"annoyed", r"irritat", r"inconvenien",
            r"hassle", r"chaos", r"disaster", r"laughable", r"shambles", r"circus",
        ),
    ),
    (
        # The customer cannot get something done: the site, the app or the rules stop them.
        "cannot_proceed",
        re.compile(
            r"\b(?:unable to|(?:not|isn'?t|won'?t|wouldn'?t|doesn'?t|didn'?t|keeps?) "
            r"(?:let(?:ting)? me|allow(?:ing)? me|load(?:ing)?)|"
            r"(?:can'?t|cannot|couldn'?t|could not|can not) (?:check|book|rebook|re-book|change|"
            r"find|log|access|use|add|make|see|seem|even|select|pick|cancel|board|print)|impossible|"
            r"keeps? (?:fail|crash|freez|telling|saying|getting)|error\b|glitch|broken|not working|down again)",
            re.IGNORECASE,
        ),
    ),
    (
        # Trying again and again: "called four times", "third email", "already explained".
        "repeated_attempts",
        re.compile(
            r"\b(?:\d+|two|three|four|five|several|many|multiple|numerous) times\b|\b(?:already|repeatedly) "
            r"(?:called|explained|tried|sent|emailed|asked|told|dm'?d)|tried (?:calling|to call|everything|again)|"
            r"\bagain and again|(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)) (?:time|call|email|attempt)",
            re.IGNORECASE,
        ),
    ),
    (
        "profanity",
        words(
            r"fuck", r"f\*+", r"shit", r"sh\*t", r"damn", r"wtf\b", r"wth\b", r"crap", r"bs\b",
            r"bullshit", r"hell\b", r"ass\b", r"asshole", r"pissed", r"screw(?:ed)?\b", r"bitch",
            r"bastard", r"omfg", r"ffs\b", r"idiot", r"stupid", r"dumb\b", r"morons?\b",
        ),
    ),
]

# Praise and thanks lower the score (they are not reported as signals); sarcasm, which
# uses the same words, is a signal of its own and outweighs them.
POSITIVE_WORDING = words(
    r"thanks?\b", r"thank you", r"thx\b", r"ty\b", r"appreciate", r"great\b", r"awesome", r"amazing",
    r"love\b", r"loved\b", r"lovely", r"wonderful", r"excellent", r"fantastic", r"best\b", r"kudos",
    r"impressed", r"helpful", r"kind\b", r"friendly", r"smooth", r"perfect", r"happy", r"glad\b",
    r"excited", r"rock\b", r"shout ?out", r"well done", r"nice\b", r"enjoy", r"pleasure", r"congrat",
    r"beautiful", r"cool\b", r"good job", r"good work", r":\)", r":-\)", r":d\b", r"lol\b", r"haha",
)
# Smiling, laughing and heart emoji, and a thumbs up: praise too.
POSITIVE_EMOJI = re.compile(
    "[\U0001F600-\U0001F60F\U0001F617-\U0001F61D\U0001F638-\U0001F63B\u263A\u2764"
    "\U0001F499-\U0001F49C\U0001F44D\U0001F44F\U0001F64C\U0001F389]"
)
# The customer lets the company off: "not your fault", "no worries", "all sorted now".
REASSURANCE = words(
    r"not (?:your|ur|their|the crew'?s|anyone'?s) fault", r"no worries", r"no problem", r"no big deal", r"all good",
    r"worked out", r"got (?:it |everything |things )?(?:fixed|sorted|resolved)", r"(?:all|now) sorted",
    r"no complaints?",
    r"can'?t complain", r"it happens", r"things happen", r"better late than never", r"safety first", r"better safe",
    r"relieved", r"made it (?:home|in|safe)", r"home safe", r"no harm",
)
REASSURED = "reassurance"
POSITIVE = "positive_wording"
# A plain question or request ("how do I cancel", "can I bring my dog") is how calm
# customers write in a chat; "why ...?" questions are left out, they often complain.
PLAIN_QUESTION = re.compile(
    r"^\W*(?:hi|hello|hey)?\W*(?:how|what|when|where|which|who|can|could|do|does|is|are|will|would|may|should|"
    r"i'?d like|i would like|i want to|i need to|please)\b",
    re.IGNORECASE,
)
QUESTION = "plain_question"

REPEATED_PUNCTUATION = re.compile(r"[!?]{2,}|\?!|!\?|\.{4,}")
# Words in capitals that are names, not shouting: airport codes, booking references, "I", "OK".
CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 8:
        return False
    upper = sum(c.isupper() for c in letters) / len(letters)
    long_caps_words = [w for w in CAPS_WORD.findall(text) if len(w) >= 4 and not any(ch.isdigit() for ch in w)]
    return upper >= 0.6 or len(long_caps_words) >= 2 or (len(long_caps_words) >= 1 and upper >= 0.3)


def rule_signals(text: str) -> List[str]:
    """The named lexical signals that fire on ``text``, in a fixed order."""
    normalised = text.replace("’", "'").replace("‘", "'")
    fired = [name for name, pattern in LEXICON if pattern.search(normalised)]
    if _shouting(normalised):
        fired.append("shouting")
    if REPEATED_PUNCTUATION.search(normalised):
        fired.append("repeated_punctuation")
    return fired


def calm_cues(text: str, signals: List[str]) -> List[str]:
    """Cues that lower the score: praise or thanks that is not sarcastic, a plain question."""
    normalised = text.replace("’", "'")
    cues = []
    if "sarcasm" not in signals and (POSITIVE_WORDING.search(normalised) or POSITIVE_EMOJI.search(normalised)):
        cues.append(POSITIVE)
    if "sarcasm" not in signals and REASSURANCE.search(normalised):
        cues.append(REASSURED)
    if not signals and PLAIN_QUESTION.search(normalised):
        cues.append(QUESTION)
    return cues

