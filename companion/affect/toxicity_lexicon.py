"""Word lists and phrase rules beside the toxicity head: profanity, identity-group terms, sexual
harassment phrasing, and who a message is aimed at (``target_of``).

They serve two jobs. In training they give weak labels where no data set has them (profanity on
every row; the target of a toxic row). At run time the sexual-harassment phrases and the threat /
self-harm detector (``companion.affect.threats``) set those categories whatever the head says,
because no training set labels sexual harassment or self-harm incitement (docs/MODEL_CARD.md).
"""
from __future__ import annotations

import re

from companion.affect.threats import threat_kind

# Profanity and slurs. Davidson labels lines with these offensive, so they never join a clean set.
PROFANE = re.compile(
    r"fuck|\bf+u+c*k+|\bfk\b|\bfck|\bfcking|\bfuk|shit|\bsh1t|bitch|\bb1tch|\bass\b|asshole|\barse\b|cunt|dick|"
    r"\bd1ck|puss(y|ies)|\bcock|fag|nigg|\bhoes?\b|whore|slut|bastard|retard|\bcrap\b|\bdamn|\bwtf\b|\bstfu\b|"
    r"\bgtfo\b|\bmf\b|motherf|\btwat|\bwank|\bprick\b|\bbollocks\b|\bpiss", re.IGNORECASE)

# Insult words: used only to keep insults out of the sets taken as clean (GoEmotions anger, the
# unlabelled Twitch lines), never as a label.
INSULTING = re.compile(
    r"\b(idiots?|stupid|dumb\w*|morons?|losers?|trash|garbage|ugly|fat|pathetic|clowns?|noobs?|cringe|sucks?|"
    r"retards?|shut\s+up|hate\s+(you|u|him|her|them)|disgusting|worthless|useless|bots?|braindead|creeps?|pigs?|"
    r"jerks?|scum|virgins?|incels?|simps?|cucks?|kill|die|dead|rape|nudes|feet|tits|boobs|cope|ratio)\b",
    re.IGNORECASE)

# Identity groups (protected characteristics) and slurs for them: a toxic line naming one is aimed
# at a group. Nationalities are included: GameTox's hate/extremism rows attack them.
_GROUPS = (
    r"wom[ae]n|girls|females|ladies|gurls|men\b|males|gays?|gay\s+people|lesbians?|homos?|queers?|trans(gender)?s?|"
    r"trannys?|trannies|blacks|black\s+people|whites|white\s+people|asians?|mexicans?|latinos?|hispanics?|jews?|"
    r"jewish|muslims?|islam|christians?|arabs?|indians?|pakis?|immigrants?|migrants?|refugees?|foreigners?|"
    r"russians?|ukrainians?|poles|polish|chinese|africans?|americans?|germans?|french|brazilians?|turks?|"
    r"disabled|autists?|autistic|retards?|niggers?|niggas?|faggots?|fags?|kikes?|chinks?|spics?|wetbacks?|"
    r"gooks?|dykes?|towelheads?|sandn\w+|ni+gg\w*|negros?|gypsys?|gypsies|roma"
)
IDENTITY = re.compile(rf"\b({_GROUPS})\b", re.IGNORECASE)

# Addressing someone: second person, an @mention, or an imperative aimed at the reader.
_SECOND_PERSON = re.compile(
    r"\b(you|u|ur|your|youre|you're|ya|yourself|urself|yourselves|yall|y'all|thou|ye)\b|@\w+|"
    r"^\s*(shut\s+up|stfu|gtfo|get\s+out|uninstall|go\s+back|learn\s+to\s+play|l2p|get\s+good|git\s+gud|"
    r"cry\s+more|die|go\s+die|kys|suck\s+my|eat\s+sh\w+|fuck\s+off|piss\s+off|get\s+a\s+(real\s+)?(job|life)|"
    r"keep\s+crying|stop\s+(talking|crying|whining)|touch\s+grass)\b|"
    r"\b(loser|idiot|moron|clown|dumbass|retard|noob|baby|crybaby|donkey|freak|creep|bozo)\s*[!?.]*\s*$", re.IGNORECASE)
# Third person about someone in the room (the streamer, a mod, a chatter): still a person.
_THIRD_PERSON = re.compile(
    r"\b(he|she|him|her|his|hes|he's|shes|she's|this\s+(guy|dude|kid|girl|streamer|loser|idiot|clown)|"
    r"that\s+(guy|dude|kid|girl)|streamer|the\s+mods?|mods\s+are|this\s+mod)\b", re.IGNORECASE)

# Sexual harassment aimed at the streamer or a chatter. No training set labels it; these are the
# common forms on stream chat, narrow on purpose ("sexy play" or "marry me" are not here).
_SEXUAL = [
    r"\bsend\s+(me\s+|us\s+)?(nudes|noods|pics\s+of\s+(your|ur)|(your|ur)\s+(nudes|feet|boobs|tits))\b",
    r"\bshow\s+(us\s+|me\s+)?(your\s+|ur\s+|them\s+|those\s+|the\s+)?(feet|tits|titties|boobs|boobies|bobs|ass|butt|"
    r"body|pussy|nipples?|cleavage|chest)\b",
    r"\b(nice|great|big|huge|sexy)\s+(tits|titties|boobs|boobies|ass|rack|butt)\b",
    r"\bsit\s+on\s+my\s+(face|lap|dick|cock)\b",
    r"\b(suck|lick|ride)\s+my\s+(dick|cock|balls|d)\b",
    r"\bi\s+(want|wanna|would|'d|d)\s+(to\s+)?(fuck|bang|rape|smash|eat\s+out|touch|grope|lick)\s+(you|u|her|ur)\b",
    r"\b(take|taking)\s+(it|them|your\s+(top|shirt|clothes|bra))\s+off\b",
    r"\b(what('?s| is)\s+)?(your|ur)\s+(bra|cup|panty|panties)\s+(size|color|colour)\b",
    r"\bbend\s+over\b",
    r"\b(onlyfans|only\s+fans)\s+(link|when|pls|please)\b",
    r"\bwhen\s+(is\s+the\s+)?(onlyfans|only\s+fans|nudes)\b",
    r"\bare\s+(you|u)\s+wearing\s+(panties|underwear|a\s+bra)\b",
    r"\b(rape|grope|molest)\s+(you|u|her|him)\b",
    r"\b(you|u)\s+(want|wanna)\s+(this|my)\s+(dick|cock|d)\b",
    r"\bsuck\s+(me|my)\s+off\b",
    r"\bdick\s+pics?\b",
]
_SEXUAL_RE = re.compile("|".join(f"(?:{p})" for p in _SEXUAL), re.IGNORECASE)


# Insult words that are insults whoever says them to whom ("trash" and "garbage" are not here: chat
# says them of games). With a target (``target_of``) they raise the insult category.
_INSULT_WORDS = re.compile(
    r"\b(idiots?|idiotic|stupid|dumb(ass|est)?|morons?|moronic|losers?|ugly|pathetic|clowns?|creeps?|creepy|"
    r"braindead|brain\s+dead|worthless|useless|disgusting|retard(s|ed)?|frauds?|pigs?|donkeys?|failures?|"
    r"waste\s+of\s+(space|oxygen|air)|nobody\s+(likes|asked|cares\s+about)\s+(you|u)|no\s+one\s+(likes|asked)|"
    r"stfu|shut\s+(up|the\s+fuck\s+up)|virgin|incel|parasite|cunt|bitch|whore|slut|fat\s+(pig|loser|fuck|ass)|"
    r"embarrass(ing|ment)|crybaby|bozo|get\s+a\s+(real\s+)?(job|life)|keep\s+crying|"
    r"(you|u|ur|your\s+(content|stream|channel|gameplay|voice|face))\s*(is|are|'re|re|r)?\s+(so\s+)?"
    r"(trash|garbage|dogshit|boring|cringe|annoying|ugly))\b",
    re.IGNORECASE)


# Harassment: rallying chat against someone (brigading, mass reports, flooding their DMs), stalking
# and ban evasion, doxxing by name, and driving a streamer off the platform. Narrow on purpose:
# raids, "report the hacker" and "spam W in chat" are ordinary chat.
_OBJ = r"(him|her|them|his|hers|their|this\s+(streamer|guy|girl|dude|loser|clown)|the\s+streamer|that\s+(guy|girl))"
_HARASSMENT = [
    r"\b(everyone|every1|everybody|chat|let'?s(\s+all)?|lets(\s+all)?|y'?all|we\s+should|go|guys)\s+(go\s+)?"
    r"(mass\s+)?(report|flood|brigade|harass|unfollow|dislike|spam|flame|hate\s+raid|raid)\s+" + _OBJ + r"\b"
    r"(?!\s+(out|back))",
    r"\b(mass\s+report|mass\s+reporting|hate\s+raid|brigade)\b",
    r"\b(spam|flood)\s+(his|her|their)\s+(dms?|twitter|inbox|socials|insta|instagram|chat|comments)\b",
    r"\bwith\s+hate\b",
    r"\b(raid|spam|flood)\b.{0,30}\b(and|to)\s+(call|tell)\s+(him|her|them)\b",
    r"\b(go\s+)?tell\s+(him|her|them)\s+(he|she|they)('?s|'?re|\s+is|\s+are)\s+(ugly|fat|worthless|trash|a\s+man|"
    r"a\s+loser|stupid|dumb|disgusting)\b",
    r"\b(new|another|alt|more|fake)\s+accounts?\s+(just\s+)?(to|so)\b",
    r"\b(you|u)\s+(can'?t|cannot|will\s+never)\s+(ban|block|get\s+rid\s+of)\s+me\b",
    r"\bi('?ll|\s+will)\s+(keep\s+coming\s+back|be\s+in\s+every\s+stream|follow\s+you\s+everywhere|never\s+leave\s+you)\b",
    r"\b(i('?ll|\s+will|'?m\s+going\s+to|'?m\s+gonna|m\s+gonna)|im\s+(going\s+to|gonna))\s+(ruin|destroy|end)\s+"
    r"(your|ur)\s+(channel|career|life|stream|reputation)\b",
    r"\bmake\s+(your|ur)\s+life\s+(hell|miserable)\b",
    r"\b(tell|show)\s+(everyone|every1|everybody|the\s+world)\s+(your|ur|what\s+(you|u))\b",
    r"\b(make\s+sure|let)\s+everyone\s+knows?\s+(what|who)\s+(you|u)\b",
    r"\b(leak|post|share|found|find)\s+(your|ur|his|her)\s+(real\s+name|address|phone|number|face|pics|school)\b",
    r"\b(stop|quit)\s+streaming\s+(forever|already|pls|please|nobody|no\s+one|for\s+good)\b",
    r"\b(nobody|no\s+one)\s+wants\s+(you|u)\s+(here|on\s+(twitch|stream)|around)\b",
]
_HARASSMENT_RE = re.compile("|".join(f"(?:{p})" for p in _HARASSMENT), re.IGNORECASE)

# Identity attacks without slurs: a group term with a demeaning generalisation ("women can't play
# games", "go back to africa"). Slurs themselves are PROFANE and the head's identity_attack.
_G = (rf"(?:(?:all|these|those|the|most|typical|filthy|dirty|stupid|fucking|damn)\s+)?(?:{_GROUPS})"
      r"(?:\s+(?:people|guys|folks|players|gamers|streamers))?")
_DEMEAN = (r"(trash|garbage|stupid|dumb|disgusting|subhuman|animals?|apes?|monkeys?|mentally\s+ill|sick|a\s+joke|"
           r"jokes|the\s+worst|inferior|useless|worthless|evil|dirty|filthy|criminals|terrorists|parasites|rats|"
           r"pigs|vermin|a\s+plague|a\s+disease|cancer|lazy|ruining|ruin|the\s+problem|all\s+the\s+same|not\s+human|"
           r"bad\s+at)")
_IDENTITY_ATTACK = [
    rf"\b{_G}\s+(are|r|is|be)\s+(all\s+|just\s+|so\s+|such\s+|literally\s+|always\s+)?{_DEMEAN}",
    rf"\b{_G}\s+(can'?t|cant|cannot|shouldn'?t|shouldnt|should\s+not)\s+(?!wait\b|stop\b|believe\b)\w+",
    rf"\b{_G}\s+(don'?t|dont|never|will\s+never)\s+(play|game|aim|drive|stream|be\s+(gamers?|streamers?|allowed|"
    r"trusted)|code|lead|think|win|belong|get\s+(good|better))\b",
    rf"\b{_G}\s+(eat|eats)\s+(dogs|cats|bats)\b",
    r"\b(filthy|dirty|disgusting|stupid|fucking|damn|bloody)\s+(" + _GROUPS + r")\b",
    r"\bwhite\s+trash\b",
    r"\b(faggots?|niggers?|kikes?|chinks?|spics?|trannys?|trannies|wetbacks?|gooks?|towelheads?|sandn\w+)\b",
    rf"\b{_G}\s+(belong|should\s+stay|go\s+back)\s+(in|to)\s+(the\s+)?(kitchen|cage|zoo|jungle|their\s+country)",
    rf"\b{_G}\s+(should|need\s+to|must)\s+(be\s+)?(deported|banned|gassed|killed|shot|removed|leave|go\s+back|die)",
    rf"\b{_G}\s+(ruin|ruins|ruined|control|controls|invade|invading|steal|stink|smell)\b",
    rf"\b(i\s+)?(hate|can'?t\s+stand|despise)\s+{_G}\b",
    rf"\btypical\s+{_G}\b",
    rf"\bno\s+{_G}\s+allowed\b",
    rf"\b(never\s+trust|get\s+rid\s+of|kick\s+out|ban\s+all)\s+(the\s+)?{_G}\b",
    r"\bgo\s+back\s+to\s+(africa|china|mexico|india|your\s+(own\s+)?country|the\s+kitchen|where\s+you\s+came\s+from)\b",
    r"\bbecause\s+(she'?s|shes|she\s+is|ur|you'?re|youre|you\s+are)\s+a\s+(girl|woman|female|chick)\b",
    r"\bfor\s+a\s+(girl|woman|female|chick)\b",
    r"\bthis\s+is\s+why\s+" + _G + r"\b",
    r"\b(wom[ae]n|girls?|female)\s+(gamers?|streamers?|drivers?)\s+(are|r|lol|lmao|kekw|smh)\b",
    rf"\b{_G}\s+(gamers?|streamers?|players?|people)\s+(are|r)\s+(all\s+|just\s+|so\s+)?{_DEMEAN}",
]
_IDENTITY_ATTACK_RE = re.compile("|".join(f"(?:{p})" for p in _IDENTITY_ATTACK), re.IGNORECASE)


def harassment_phrase(text: str) -> bool:
    """A harassment phrasing: brigading, stalking or ban evasion, doxxing, "stop streaming forever"."""
    return bool(_HARASSMENT_RE.search(text[:4000]))


def identity_attack_phrase(text: str) -> bool:
    """A demeaning generalisation about an identity group ("women can't play games")."""
    return bool(_IDENTITY_ATTACK_RE.search(text[:4000]))


def insult_phrase(text: str) -> bool:
    """An insult word or phrase aimed at someone ("you are an idiot", "cringe loser streamer")."""
    t = text[:4000]
    return bool(_INSULT_WORDS.search(t)) and target_of(t) != "none"


def is_profane(text: str) -> bool:
    """A swear word or slur anywhere in ``text``."""
    return bool(PROFANE.search(text))


def sexual_harassment(text: str) -> bool:
    """A sexual-harassment phrasing ("send nudes", "show feet")."""
    return bool(_SEXUAL_RE.search(text[:4000]))


def target_of(text: str) -> str:
    """Who ``text`` is aimed at, by rule: ``group`` when it names an identity group, ``person`` when
    it addresses someone (second person, @mention, an imperative such as "shut up") or talks about
    one (he / she / this guy / the streamer), else ``none``. Meaningful for toxic lines only: the
    analyser reports a target only when the message is toxic."""
    t = text[:4000]
    if IDENTITY.search(t) or identity_attack_phrase(t):  # "go back to africa": aimed at a group
        return "group"
    if _SECOND_PERSON.search(t) or _THIRD_PERSON.search(t):
        return "person"
    if threat_kind(t) is not None or harassment_phrase(t):  # "die in a fire", "mass report": aimed at someone
        return "person"
    return "none"
