"""The disruption lexicon: the types, each type's rules, the clauses that report no disruption
of the customer's own, and the words that tell a disruption already dealt with."""

from __future__ import annotations

import re
from typing import List, Pattern, Tuple

TYPES = (
    "cancelled",
    "delayed",
    "missed_connection",
    "lost_luggage",
    "damaged_luggage",
    "downgraded",
    "schedule_change",
    "denied_boarding",
    "hotel_problem",
)

_BAG = (
    r"(?:bags?|luggage|suitcases?|baggage|backpack|carry[- ]?on|golf (?:bag|clubs)|stroller|car ?seat|guitar|"
    r"bike|bicycle|skis)"
)

# What-if and how-to clauses describe no disruption that has happened: they are removed first.
HYPOTHETICAL = re.compile(
    # a conditional clause ends at a comma: "if I'm boarding now, I deserve to know why we're delayed"
    r"(?<!\bas )(?<!\bit )\b(?:if|in case|whether|what happens when|incase)\b[^.!?;,]*"
    r"|\b(?:how|can|could|may) (?:do |can )?(?:i|we|you) (?:cancel|change|reschedule|report)\b"
    r"(?:(?! (?:that|which) (?:was|were|got|has|have|is)\b)[^.!?;])*"
    r"|\b(?:help (?:with |me )?|want to |wanna |like to |need to |trying to |try to |please )cancel\w*[^.!?;]*"
    r"|\b(?:not|never|wasn'?t|weren'?t|isn'?t|aren'?t) (?:been |be |yet |even |once )?(?:cancel+ed|delayed)\b"
    r"|\bno (?:more )?(?:delays?|cancel+ations?)\b"
    # delays in general, their risk, and hearsay: "your plan to reduce delays", "any chance of
    # cancellations tomorrow", "I heard a rumour that flight 8 was cancelled"
    r"|\b(?:reduce|avoid|prevent|minimi[sz]e|fewer|less) (?:\w+ )?(?:delays|cancel+ations)\b"
    r"|\b(?:concerns?|worr\w*|chances?|risk|likel\w*|possib\w*|odds) (?:of|about|for|that) (?:\w+ ){0,2}"
    r"(?:delays?|cancel+\w*)\b"
    r"|\b(?:heard|hearing|rumou?rs?)\b (?:about|of|that|a rumou?r)\b[^.!?;,]*"
    # concessions ("despite the delay, the crew was great") and other senses of "delay"
    r"|\b(?:despite|in spite of)\b[^.!?;,]*"
    r"|\bdelay in (?:answering|responding|reply\w*|response|getting back)"
    r"|\bdelay\w* (?:in |of |with |on )?(?:the |my |our |your |all )?(?:check-?ins?|refunds?|responses?|repl(?:y|ies)|"
    r"answers?|payments?|reimbursements?|claims?)\b"
    # what happens to people in general: "you never tell customers when their flights are delayed"
    r"|\bwhen (?:their|people'?s?|customers'?|passengers'?|flights (?:are|get))\b[^.!?;,]*"
    # a present-tense "when" clause is habitual ("I like a text when my flight's delayed"), and a
    # past trip is a closed matter ("a voucher from a previous trip that was delayed")
    r"|\bwhen (?:a )?(?:flight|plane)s?(?:'s| is| are| gets?)(?: \w+)? (?:delayed|cancel+ed)\b"
    r"|\b(?:past|previous|prior|earlier|old) (?:trips?|flights?|bookings?)\b[^.!?;,]*"
    r"|\b(?:for|about|after|in case of) an? (?:delay|cancel+ation|missed connection)\b(?! of)"
    r"|\b(?:when|what time|what day)\b[^.!?;,]*?\bsuppos\w* to\b"
    r"|\b(?:cancel+ation|delay|baggage|luggage|downgrade|overbooking) (?:policy|policies|fees?|insurance|protection|"
    r"compensation rules|allowance)\b"
    # the customer cancels something themselves, or something that is not a flight
    r"|\b(?:i|we)(?: (?:have|had|just|already|then|finally|will|had to|decided to|'ve|ve))* cancel+(?:ed|ing)?\b"
    r"|\bcancel+(?:ed|ing|s)? (?:my |our |the |a |his |her |their )?(?:\w+ )?(?:reservations?|bookings?|tickets?|"
    r"meetings?|interviews?|plans|hotel|rental|appointments?|membership|account|card|order|subscription)\b",
    re.IGNORECASE,
)

# A yes/no question whether a flight is (or will be) delayed or cancelled asks for news and
# reports no disruption ("is flight 12 delayed?", "will you cancel flights tomorrow", the
# question mark often left out in a chat); one that takes the disruption as given ("is there
# a hotel for my cancelled flight?", "is it still delayed?") does.
STATUS_QUESTION = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay|so|and|also|question|quick question|thanks|please)\W+)*"
    r"(?:is|are|will|would|was|were|do|does|did|has|have|any)\b"
    # "was delayed 3 hours" and "has been cancelled" leave out the subject: statements, not questions
    r"(?! (?:been|being|delayed|cancel\w*|late|still|again|now|so|very|really|just|already|even)\b)"
    r"(?![^?]*\b(?:still|again|already|why|reason|how long|compensat\w*|refund\w*|vouchers?|hotel)\b)"
    r"(?=[^?]*\b(?:(?:delayed|cancel+ed)\b(?! (?:\w+ )?(?:flights?|planes?|departures?|trips?))"
    r"|(?:an?|any|expect\w*|anticipat\w*) (?:\w+ )?(?:delays?|cancel+ations?)\b"
    r"|(?:i|we|he|she|they|you) (?:get|be) (?:stuck|stranded)\b))"
    r"[^?]*\??$",
    re.IGNORECASE,
)
CLAUSES = re.compile(r"[^.!?;:,]+(?:[.!?]+|[;:,]|$)")


RULES: List[Tuple[str, Pattern[str]]] = [
    (
        "damaged_luggage",
        re.compile(
            _BAG + r"[^.!?]{0,40}\b(?:damag\w*|broke|broken|destroy\w*|ripped|torn|smash\w*|crack\w*|"
            r"soaked|ruined|dented|bent|busted|shattered)"
            r"|\b(?:damag\w*|broke|broken|destroy\w*|ripped|tore|smashed|cracked|ruined|busted|soaked)\b[^.!?]{0,25}"
            + _BAG,
            re.IGNORECASE,
        ),
    ),
    (
        "lost_luggage",
        re.compile(
            r"\b(?:los(?:t|e|es|ing)|loosing|misplac\w*|mishandl\w*|misrout\w*)\b[^.!?]{0,20}" + _BAG
            + r"|\b(?:los(?:t|e|es|ing)|take|taken|took|stole|stolen) (?:my|our|your|his|her|their|all) (?:\w+ )?"
            r"(?:belongings|clothes|stuff|things|valuables)"
            r"|lost ?luggage|lost ?bag|missing " + _BAG
            + r"|" + _BAG + r"[^.!?]{0,40}\b(?:lost|missing|never (?:arrived|came|showed|made it)|"
            r"didn'?t (?:arrive|come|show|make it)|did not (?:arrive|make it|come)|not (?:arrived|here|delivered)|"
            r"hasn'?t (?:arrived|come|been delivered)|haven'?t (?:arrived|come|been delivered)|"
            r"still (?:not|in|at|missing)|left behind|should(?:'?ve| have) (?:been here|arrived|come|been delivered)|"
            r"(?:on|in) the next (?:flight|plane)|left (?:in|at) |delayed|went to|sent to|out for delivery|"
            r"(?:on|in) (?:a different|another|the wrong)|wrong (?:city|airport|flight)|"
            r"missed (?:the |its |their |my |our )?(?:connect\w*|flight|plane))"
            r"|(?:where|wheres|where's) (?:is|are|was|were)? ?(?:my|our|the) " + _BAG
            + r"|(?:still )?no (?:sign of )?(?:my |our |the )?" + _BAG + r"\b"
            + r"|still (?:don'?t|do not|haven'?t|have not) (?:got |gotten |received |have )?(?:my|our) (?:\w+ ){0,5}"
            r"(?:clothes|belongings|stuff|things|" + _BAG + r")"
            + r"|(?:got|get|received) (?:my|our) (?:checked )?" + _BAG + r" (?:back )?(?:\d+|two|three|four|five|several) "
            r"(?:hours?|hrs?|days?) later"
            + r"|(?:without|w/o|w/out) (?:my |our |any |his |her |their )?" + _BAG
            + r"|(?:my|our|his|her|their) " + _BAG + r" (?:is|are|was|were|has been|have been|ended up|sitting|still)"
            r"(?: \w+){0,3} (?:in|at) (?!the (?:overhead|car|trunk|cabin|seat|bin|counter|gate))\w"
            + r"|\b(?:you|they|u|y'?all)(?: \w+)? (?:left|leave|forgot) (?:my|our|his|her|their) " + _BAG
            + r"|for (?:leaving|forgetting) (?:my|our|his|her|their) " + _BAG
            + r"|(?:get|got|find|locate|track|trace|deliver)\w* (?:my|our) " + _BAG + r"[^.!?]{0,20}(?:back|yet|delivered)"
            + r"|(?:track|trace|locat)\w* (?:my|our) " + _BAG
            + r"|(?:status|whereabouts|location) of (?:my|our) (?:checked )?" + _BAG
            + r"|(?:get|got|deliver|send|sent|bring|transfer|move|load)\w* (?:my|our|a|the|his|her) (?:checked )?" + _BAG
            + r" (?:to|from|onto|on)\b|(?:get|got|have|want) (?:my|our) (?:checked )?" + _BAG + r" back|\bwant my " + _BAG
            + r"|(?:my|our) (?:checked )?" + _BAG + r" (?:aren'?t|isn'?t|are not|is not|won'?t be|wasn'?t|weren'?t) "
            r"(?:even )?(?:coming|here|there)"
            + r"|(?:when|until|till) (?:my|our|the) " + _BAG + r" (?:will|arrive|get|come|is|are|show)"
            + r"|compensat\w* for (?:my|our|the) " + _BAG
            + r"|" + _BAG + r" ?#|" + _BAG + r" (?:claim|file|reference) (?:number|ticket|report|#)"
            r"|missing (?:bag|baggage|luggage) report|delayed " + _BAG
            + r"|(?:update|news|word|info\w*) (?:on|about|regarding) (?:my|our|the) " + _BAG
            + r"|(?:waiting|wait|waited) (?:\w+ ){0,3}(?:for|on) (?:my |our |the )?" + _BAG
            + r"|" + _BAG + r"[^.!?]{0,25}(?:deliver|locat|track|trace)\w*",
            re.IGNORECASE,
        ),
    ),
    (
        "downgraded",
        re.compile(
            r"downgrad(?:ed|ing)|(?:bumped|moved|kicked|put)(?: me| us)? (?:from|out of|down from) (?:first|business|"
            r"premium|the first)|lost (?:my|our) (?:upgrade|first class|business class)|(?:paid|booked) (?:for )?"
            r"(?:first|business)(?: class)?[^.!?]{0,30}(?:economy|coach|back of the plane)"
            # a premium cabin booked, a lower one given: the cabins are a closed set of words
            r"|\b(?:first|business|premium)(?: class)?\b[^.!?]{0,50}\b(?:put|moved|stuck|sat|seated|says|shows|said)"
            r"(?: me| us| him| her)?(?: in| into| to)? (?:the )?(?:coach|economy)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "denied_boarding",
        re.compile(
            r"\bdenied (?:me |us )?boarding\b|(?:overbooked|oversold)[^.!?]{0,30}\b(?:couldn'?t|could not|can'?t) board"
            r"|(?<!almost )\bbumped (?:me |us )?(?:off|from) (?:my|our|the|a|this) (?:flight|plane)"
            r"|\b(?:wouldn'?t|would not|didn'?t|did not|refused to|won'?t|will not) let (?:me|us|my \w+) (?:board|on (?:the|my|our) "
            r"(?:plane|flight))\b",
            re.IGNORECASE,
        ),
    ),
    (
        # what only a hotel can get wrong: the room given away, the booking not found
        "hotel_problem",
        re.compile(
            r"\bhotel\b[^.!?]{0,40}\b(?:gave (?:away )?(?:our|my) room|(?:has|had|have) no (?:record|reservation|"
            r"booking|rooms?)|(?:can'?t|cannot|couldn'?t) find (?:our|my|the) (?:reservation|booking)|"
            r"(?:is|was) (?:overbooked|fully booked))",
            re.IGNORECASE,
        ),
    ),
    (
        "missed_connection",
        re.compile(
            r"\bmiss(?:ed)? (?:my |our |the |a )?(?:connect\w*|transfer|onward)|misconnect\w*"
            r"|connecting flight (?:left|departed|took off) without"
            r"|\b(?:made|make|making) (?:me|us) miss (?:my |our |the |a )?(?:\w+ )?(?:flights?|planes?|connections?)",
            re.IGNORECASE,
        ),
    ),
    (
        "cancelled",
        re.compile(
            # "cancels" only with the customer's flight: the present simple otherwise tells of habits,
            # news and policy ("the airline cancels flights when ...", "the booking cancels at noon")
            r"\bcancel+(?:ed|ing)\b|\bcancels (?:my|our|your|us|the|both|all)\b|\bcancel+ations?\b"
            r"|\bcanx\w*|\bcxl+d?\b|\bcncl+e?d\b|\bcx'?e?d\b|\bscrapped\b"
            r"|\bflights? (?:is |are |still |was |were |got |get )*cancel\b"
            r"|\b(?:you|u|they|y'?all)(?: (?:just|then|guys|all|always|now|also|gonna|going to|did|do|keep|go))* cancel "
            r"(?:my|our|the|both|all|it|this|that|his|her|their|\d)"
            r"|\b(?:and|then) cancel (?:it|the flight|our flight|my flight)\b|\bcalled off\b|\bweathered out\b"
            r"|\bno (?:more |other )?flights? (?:until|till|out (?:until|till|tonight|today))"
            r"|\b(?:no|nada|nothing) (?:seats? |flights? )?(?:avail\w*|open) (?:until|till|before)",
            re.IGNORECASE,
        ),
    ),
    (
        "schedule_change",
        re.compile(
            r"schedule change|(?:changed|moved|rescheduled|retimed|switched) (?:my|our|the) (?:flight|itinerary|"
            r"departure|return|connection|trip)(?! (?:to|for) me\b)|(?:flight|departure) time[^.!?]{0,15}"
            r"(?:changed|moved)|non-?stop[^.!?]{0,30}(?:into|to) (?:a )?(?:1|one)[- ]?stop|involuntary (?:change|reroute)"
            r"|(?:was|got|been|were|is) rescheduled|(?:flight|trip)\b[^.!?]{0,40}\b(?:rescheduled|moved|pushed) to\b"
            r"|reschedul\w* (?:my|our) flights?|rerouted|re-routed",
            re.IGNORECASE,
        ),
    ),
    (
        "delayed",
        re.compile(
            r"\bdelay(?:ed|s|ing)?(?:\b|(?-i:[A-Z0-9]))|\d ?(?:hours?|hrs?|mins?)[ -]?delay"
            r"|\blate (?:flight|arrival|departure|plane|crew|pilot|inbound)"
            r"|\b(?:running|arrived|arriving|departed|leaving|took off|landed|be|am|are|is|was|were|being) (?:so |very |really )?late\b"
            r"|(?:hours?|hrs?|mins?|minutes|day) late\b|(?:on|at) (?:the )?(?:tarmac|runway)|still (?:at|on|in) the (?:gate|plane|airport)"
            r"|(?:sitting|sat|stuck|waiting) (?:at|on|in) (?:the )?(?:gate|plane|jetway)"
            r"|waiting (?:\w+ ){0,3}(?:for|on) (?:a |the |our )?(?:pilot|crew|gate|plane|aircraft|captain|fuel|mechanic|de-?ic)"
            r"|(?:hasn'?t|haven'?t|still not|not yet) (?:taken off|left|departed|boarded|pushed)"
            r"|(?:never|not|n't|nothing|ever)(?: \w+){0,3} (?:departs |leaves |arrives )?on time|pushed back (?:again|to|\d)"
            r"|push(?:ed|ing)? (?:it|us|the flight|our flight|the departure) back"
            r"|keeps? getting (?:later|pushed)|mechanical (?:issue|problem|delay)|\bmx (?:issue|delay)"
            r"|should have (?:taken off|left|departed|landed|arrived|boarded)"
            r"|(?:suppos(?:ed|e)|meant) to (?:fly|land|leave|depart|arrive|take off|board|be (?:home|in|at|there))"
            r"|been (?:at|in|stuck (?:at|in)) \w+(?: airport)? for (?:\d|over|almost|nearly|about)"
            r"|departure time keeps|(?:at|in) (?:the |this )?airport (?:since |for (?:hours|(?:over |almost |nearly |about |more "
            r"than )?(?:an?|\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several|many)\+? ?(?:hours?|hrs?|days?))\b)"
            r"|(?:sitting|sat|stuck|waiting|waited) (?:on|in) (?:this|the|our|a) (?:plane|aircraft|runway)"
            r"|(?:sitting|sat|stuck|held|trapped) (?!on (?:hold|the phone))(?:here |there )?(?:\w+ ){0,3}for "
            r"(?:over |almost |nearly |about |more than )?(?:an?|\d+(?:\.\d+)?|one|two|three|four|five|six|several) ?"
            r"(?:hours?|hrs?)|\bon (?:the )?ground (?:for )?(?:over |almost |nearly |more than )?"
            r"(?:an?|\d+(?:\.\d+)?|two|three) ?(?:hours?|hrs?)"
            r"|\b(?:\d+|several|many|two|three|four|five|six|seven|eight|nine|ten|twelve)\+? ?(?:hours?|hrs?) "
            r"(?:now |so far |and counting )?(?:in|on|at|@) (?:the |this |a )?(?:plane|airport|gate|tarmac|runway|terminal|"
            r"(?-i:[A-Z]{3})\b|(?-i:[A-Z][a-z]+))"
            r"|\bstill not (?:out of|home|there)|\bstranded\b|\btrapped (?:in|at|on)\b"
            r"|\bstuck (?:here|there|with no flights?|(?:in|at) (?:the airport|(?-i:[A-Z]{3})\b|(?-i:[A-Z][a-z]+)))"
            r"|\b(?:lost|losing|lose|wasted|wasting) (?:a|an|one|two|\d|half a|the whole|an entire|entire) (?:\w+ )?"
            r"(?:day|night|days)\b|\bget (?:me|us) (?:home|out of here)"
            r"|\b(?:plane|aircraft|gate|crew)(?: \w+)? (?:not|isn'?t|wasn'?t|is not|was not) (?:ready|here)"
            r"|\bheld (?:up|captive|hostage)|\bnot (?:leaving|departing|taking off|boarding) (?:until|till|before)"
            r"|(?:hasn'?t|haven'?t|didn'?t|did not|doesn'?t) (?:even )?(?:take off|leave|depart|board)"
            # waits that only a late flight explains
            r"|(?:didn'?t|did not) (?:get (?:home|in|there|out|to \w+)|arrive|land|leave|depart|take off|board)\w* "
            r"(?:\w+ ){0,3}(?:until|till)\b"
            r"|\b(?:sleep\w*|slept) (?:\w+ )?(?:in|at|on) (?:the |an? )?(?:airport|terminal|gate)"
            r"|\bnight (?:in|at) (?:the |an? )?(?:airport|terminal)"
            r"|\bstill (?:sitting|sat|stuck) (?:here|there|on|in|at)\b"
            r"|\bfinally (?:about to |going to |gonna )?(?:take off|taking off|took off|boarding|boarded|"
            r"leaving|departing|departed|in the air|wheels up|pushed back|pushing back|moving)"
            r"|\bwait(?:ing)? (?:another|an extra|an additional|a further) (?:\d|an?\b|one|two|three|few|several)"
            r"[^.!?]{0,12}(?:hours?|hrs?|mins?|minutes)"
            r"|\b(?:i'?m|we'?re|i am|we are|i'?ll be|we'?ll be|gonna be|going to be) (?:so |very |really )?late\b"
            r"|\blater than (?:scheduled|planned|expected|promised|advertised|(?:the|my|our) original)"
            r"|\b(?:behind|off) schedule\b"
            r"|\b(?:an?|one|two|three|\d+) extra (?:day|night|days|nights)\b"
            r"|\bfail(?:ed|s)? to get (?:me|us|him|her|them) (?:to|home|there)\b"
            r"|\b(?:made|make|making) (?:me|us) miss (?:a|one|two|three|\d+) (?:\w+ )?days?\b"
            r"|\b(?:haven'?t|have not|still not|can'?t|couldn'?t|not allowed to) (?:even )?(?:get|gotten|got) off "
            r"(?:of )?(?:the|this|our) (?:plane|aircraft)"
            r"|\bwait\w* (?:\w+ ){0,3}for (?:another|the next) (?:flight|plane)"
            r"|#\w*delay"
            r"|\b(?:came|got|come|comes) in late\b|\blate (?:in)?to (?-i:[A-Z]{3}\b|[A-Z][a-z]+)"
            r"|\b(?:sitting|sat|stuck) (?:here|there|in here|on (?:the|this) plane) for (?:another |over )?"
            r"\d+\+? ?(?:mins?|minutes)\b",
            re.IGNORECASE,
        ),
    ),
]


# A disruption the customer reports as dealt with, and thanks for, needs no person: "thanks for
# rebooking me after the cancellation", "bag was delivered this morning, great service". Three
# things must all hold (handled_reason): thanks or praise; a resolution, or praise of the people
# who dealt with it; and nothing still open: no question, request, "still", complaint, sarcasm,
# negative overall tone, or a disruption named after a "but" ("thanks, but my flight is
# cancelled and I need a new one").
GRATITUDE = re.compile(
    r"\b(?:thanks?|thank (?:you|u)|thx|ty|tysm|appreciat\w*|grateful|kudos|props|shout ?outs?|big up|"
    r"compliment\w*|bravo|well done|(?:great|good|nice|fantastic|amazing|awesome) (?:job|work|service|team|crew|"
    r"people|staff)|way to (?:go|handle)|above (?:and|&amp;|&) beyond|impress(?:ed|ive)|amazing|awesome|excellent|"
    r"outstanding|fantastic|wonderful|superb|love|loved|the best|helpful|kind(?:ness)?|gracious)\b"
    r"|#(?:luv|best)\b|[:;]-?\)|\U0001f44d",
    re.IGNORECASE,
)
RESOLVED = re.compile(
    r"\b(?:re-?book\w*|re-?accommodat\w*|re-?rout\w*|switch\w*|swapp?\w*|sorted|fixed|resolved|"
    r"(?:took|take|taken) care|handl(?:e|ed|ing)|worked (?:it )?out|helped|help (?:in|with)|refund(?:ed)?|"
    r"got (?:me|us|my \w+|our \w+|him|her|them)(?: \w+)? (?:on|onto|home|out|there|to|in|off)|"
    r"(?:get|gets|getting|got) (?:me|us|my|our|him|her|them)\b[^.!?]{0,50}\b(?:home|there|on (?:a|the|an)|"
    r"(?:to|into) \w+|off the ground)|arriv\w* (?:\w+ ){0,3}(?:early|on time|ahead of|before)|"
    r"(?:before|earlier than|ahead of) (?:we were |it was |they were )?(?:supposed|scheduled|due|schedule)|"
    r"made up (?:the |some |for (?:the )?)?(?:lost )?time|"
    r"made (?:it|my (?:connection|flight)|the connection)|"
    r"(?:back|made it|got|arrived|landed|safe(?:ly)?)(?: safe(?:ly)?)? home|found (?:my|our|the) |"
    r"(?:bags?|luggage|suitcases?)\b[^.!?]{0,30}\b(?:arrived|delivered|showed up|came|is here|found|"
    r"on (?:its|their|the) way)|(?:got|received|have) (?:my|our|the) (?:bags?|luggage|suitcases?)\b|"
    r"(?:gave|got|offered|given|giving) (?:me |us )?(?:a |an )?(?:\$\d+ )?(?:credit|voucher|upgrade|refund|miles|"
    r"points|day pass|hotel)|kept (?:us|things|everyone|it)|finally (?:boarded|took off|in the air|"
    r"on (?:the|our) way|home|here|landed)|(?:thanks|thank you|thx) to\b|no complaints|can'?t complain|"
    r"not (?:your|ur|their|anyone'?s) fault|(?:on|before) (?:time|schedule)|without (?:a hitch|difficulty|any trouble)|"
    # praise of the people who dealt with it: "great job from your team with the weather delay"
    r"(?:great|good|wonderful|amazing|fantastic|awesome|excellent|nice) (?:job|work|efforts?)|"
    r"(?:compliment|commend|praise|big up|kudos|props|shout ?outs?)\b|"
    r"thank\w* (?:\w+ ){0,4}(?:efforts?|crew|staff|team|agents?|pilots?|captain|attendants?|reps?|employees?))",
    re.IGNORECASE,
)
STILL_OPEN = re.compile(
    r"\?|\b(?:still|now what|need|needs|want|wanna|please|pls|plz|asap|help me|can (?:you|u|someone|anyone)|"
    r"could (?:you|u)|if (?:you|u|someone|anyone|they)|soon|how (?:do|can|long|about)|when (?:will|is|are|can)|"
    r"where (?:is|are)|any (?:update|news|word|idea)|no (?:one|body|help|response|info\w*|update|word|call|reply)|"
    r"not yet|yet to|waiting|wait|complain(?:t|ts|ing)?|ridiculous|unacceptable|worst|terribl\w*|horribl\w*|"
    r"awful|disappoint\w*|upset|angry|furious|rude|useless|frustrat\w*|annoy\w*|hate|sucks?|smh|ugh|wtf|"
    r"never again|robbed|ruin\w*)\b|#\w*(?:worst|fail|sucks|never)",
    re.IGNORECASE,
)
# "no complaints", "can't complain": contentment, not a complaint
NOT_A_COMPLAINT = re.compile(r"\b(?:no complaints?|(?:can'?t|cannot|won'?t) complain)\b", re.IGNORECASE)
BUT = re.compile(r"\b(?:but|though|although|however|except)\b", re.IGNORECASE)
