"""Template lines for the toxicity categories no data set labels well: sexual harassment, self-harm
incitement, identity attacks without slurs ("women can't play games"), threats of coming for
someone, and chat insults aimed at the streamer. Each template line is a training row labelled
with its one category and its target (``train_toxicity``); lines equal to an evaluation line
(``companion/affect/evalsets``), or one plus a chat suffix, are dropped there, so the chat
evaluation never sees them. Ordinary lines close to the categories (praise in the second person,
backseating, game violence) are templated too, as hard negatives.

The other categories of a template row are left unlabelled (masked) rather than 0: "show feet
loser" is also an insult.
"""
from __future__ import annotations

import itertools

import numpy as np

_PEOPLE = ["", "streamer", "girl", "bro", "mods", "chat", "babe", "@{user}"]
_USERS = ["pixelfox", "kai_ttv", "moonbeam", "xXsniperXx", "luna", "deadeye"]
_GROUPS = ["women", "girls", "females", "gay people", "gays", "trans people", "black people", "asians",
           "mexicans", "jews", "muslims", "immigrants", "indians", "russians", "arabs", "chinese people"]

_TEMPLATES: dict[tuple[str, str], list[str]] = {
    ("sexual", "person"): [
        "send nudes {p}", "send me nudes", "nudes when", "show us your feet {p}", "show feet", "show bobs",
        "show tits", "flash us", "take your top off", "take it off {p}", "bend over for chat",
        "nice tits", "what are you wearing under that", "sit on my face {p}", "i want to bang you",
        "i wanna smash the streamer", "your body is mine", "wanna see my dick", "ill send you a dick pic",
        "onlyfans link?", "when is the onlyfans", "i bet you look good naked", "lick my balls {p}",
        "suck my dick {p}", "show us what's under the shirt", "turn around and show us your ass",
        "are you wearing a bra", "come sit on my lap {p}", "i'd rail you", "you'd look better without clothes",
        "move the camera lower", "zoom in on her chest", "i want to touch you", "give me a lap dance {p}",
    ],
    ("self_harm", "person"): [
        "kys {p}", "kill yourself {p}", "go kill yourself", "just kys already", "neck yourself",
        "go hang yourself", "end yourself {p}", "do us a favor and die", "jump off a bridge",
        "drink bleach {p}", "nobody would care if you died", "the world is better without you",
        "you should just end it", "off yourself", "unalive yourself", "go die in a hole {p}",
        "rope yourself", "do a flip off a roof", "delete yourself {p}", "k y s",
    ],
    ("threat", "person"): [
        "i will find you {p}", "i know where you live", "im coming to your house", "i'm going to find your address",
        "i will hurt you", "watch your back {p}", "i'm gonna beat you up", "i'll stab you", "you're dead when i find you",
        "ill pull up to your house", "i have your address", "see you after school {p}", "your family isnt safe",
        "i'm going to dox you", "i'll break your legs", "im gonna shoot you", "hope you get hit by a car",
        "i'll make you regret this irl", "you won't be safe", "i will end you irl",
        "i'm outside your door", "i know what school you go to", "your kids aren't safe", "i'll burn your house down",
        "i'll break your neck {p}", "i'm gonna punch you irl", "i will find your family", "you better hope we never meet",
        "i'll hunt you down", "i'm driving to your place now", "wait till i see you in person", "i'll choke you",
    ],
    ("identity_attack", "group"): [
        "{g} can't play games", "{g} are trash at games", "{g} shouldn't be allowed to stream",
        "{g} belong in the kitchen", "typical {g}", "{g} ruin everything", "i hate {g}",
        "{g} are disgusting", "{g} are stupid", "all {g} should leave", "{g} don't belong here",
        "no {g} allowed in chat", "{g} are subhuman", "get these {g} out of my game", "never trust {g}",
        "{g} are all the same", "{g} cant even aim", "{g} gaming lmao worst players",
        "this is why {g} shouldn't game", "{g} streamers are a joke", "{g} are a plague", "{g} are ruining this country",
        "{g} should go back where they came from", "{g} are mentally ill", "{g} are animals", "{g} smell",
        "{g} are the reason this game is dead", "of course it's {g} again", "{g} only get subs for their looks",
        "{g} have no business in gaming", "{g} are so lazy", "{g} need to be banned from online games",
        "imagine being one of those {g}", "{g} are not real people", "{g} are criminals", "{g} always cheat",
        "another {g} streamer begging for money", "{g} should stay out of esports", "{g} are inferior",
    ],
    ("harassment", "person"): [
        "everyone report {p}", "spam him with hate", "let's raid his chat and flame him", "leave the stream nobody wants you",
        "i'll keep making accounts to talk to you", "you can't ban me forever {p}", "everyone go tell her she's ugly",
        "stop streaming forever", "i'll be in every stream you do", "make her cry chat",
        "chat let's get this streamer banned", "everyone dislike his videos", "go flame her in the comments",
        "mass report this clown", "let's make her quit streaming", "everybody unfollow her right now",
        "dm her and tell her she's fat", "i found your instagram {p}", "i know your real name {p}",
        "i'm going to post your address", "everyone leave and unfollow", "go brigade his discord",
        "i'll ban evade forever", "another account because you banned me", "you will never get rid of me",
        "i'm watching everything you do", "i'll follow you to every platform", "nobody wants you on twitch",
        "quit streaming already nobody watches", "go cry to your mods again", "i'll ruin your reputation",
        "let's spam her discord with gore", "i'll make your stream hell every day", "everyone go harass her",
        "i'll get you cancelled", "tag her boyfriend and tell him what she did", "keep crying i'll never stop",
        "chat bully him until he leaves", "spam his socials until he quits", "you deserve every hate comment",
    ],
    ("insult", "person"): [
        "you are so bad {p}", "you're trash {p}", "worst streamer ever", "you suck", "ur garbage",
        "nobody likes you {p}", "you're ugly", "shut up {p}", "you're a clown", "what a loser",
        "you are pathetic", "you're so annoying {p}", "nobody asked you", "you're a joke", "cry more loser",
        "you're braindead", "ur a bot", "you have no friends", "this streamer is so dumb", "uninstall the game noob",
        "get a life {p}", "touch grass loser", "go outside for once", "you look like a potato",
        "you sound like a goat {p}", "you talk like a child", "your voice is so annoying", "your content is trash",
        "this stream is garbage and so are you", "you're a waste of space", "you're so fat", "ur face is ugly",
        "you're an embarrassment {p}", "what a pathetic excuse for a streamer", "you're a failure",
        "you are the dumbest person here", "imagine being this stupid", "nobody watches you for a reason",
        "you're a sad excuse for a human", "your mom should be ashamed", "you're a crybaby",
        "stop whining you baby", "you're so cringe it hurts", "you have the iq of a rock", "absolute moron",
        "you're a rat", "you're a joke of a person", "you smell", "ugly ass streamer", "you're a nobody",
        "you're irrelevant {p}", "get off twitch you're terrible", "you're a fake", "you're a liar and a fraud",
        "go back to your basement", "you will never be good at anything", "ur so dumb it's sad", "shut your mouth",
    ],
}


# Ordinary chat that reads close to the categories: praise and questions in the second person,
# backseating imperatives, game violence. Labelled none with every category 0 ("hard negatives").
_PRAISE = ["cracked", "insane", "nuts", "cold", "goated", "so good", "crazy good", "unreal", "built different", "a menace"]
_BENIGN = [
    "you're {w} at this", "you are {w} at this game", "bro you're {w}", "ur {w} fr", "how are you so {w}",
    "you're {w} today", "streamer is {w}", "he's {w}", "she's {w} at this", "you played that so well",
    "you're the goat", "love you streamer", "you're so funny", "you deserve more subs", "thank you for the stream",
    "are you playing ranked later", "what keyboard are you using", "do you stream tomorrow", "how old is your cat",
    "you missed the loot", "you should go right", "open the map", "use the shield", "go back to the shop",
    "jump over the fence", "drop down here", "pick up the ammo", "use your ult now", "reload first",
    "kill the boss first", "shoot the barrel", "take him out with the sniper", "finish him off", "stab him from behind",
    "he's going to kill you lol", "the boss is gonna destroy you", "run them over", "they are camping you",
    "execute the prisoner for the quest", "burn the nest", "nuke the base", "the zombies want to eat you",
    "this game is trying to kill me", "i'd die for this soundtrack", "i'm dead lmao", "that killed me lol",
    "show us the map", "show the inventory", "show your setup", "show us the build", "take it slow",
    "hi mods", "hi chat", "when is the next stream", "what server are you on", "are you ok",
    "you look like you're having fun", "you sound tired today", "you look great today", "your voice is so calming",
    "your content is the best", "report the hacker", "report him he's cheating", "everyone spam W in chat",
    "raid incoming", "let's raid someone after", "the chinese server is so laggy", "women's finals are on tonight",
    "i'm gay and i love this stream", "trans rights", "shoutout to all the girl gamers", "my mom watches your streams",
    "black ops is back", "the russians on my team were nice", "mexican food after stream", "happy pride month chat",
    "she's the best player on the team", "he's so good at this", "get a drink of water", "go to sleep streamer",
    "stop streaming and go to bed lol", "take a break you deserve it", "touch grass after this one lol",
    "the boss is a joke", "this game is garbage", "the devs hate us", "this lobby is full of bots",
    "you're a legend", "you're a beast at this", "you're a machine {w}", "you're a king", "you're a wizard with that",
    "you're a national treasure", "you're a natural", "you're a pro already", "you look happy today",
    "you sound like a pro caster", "you look like you need coffee lol", "you sound sick hope you feel better",
    "you make this game look easy", "you always make me laugh", "you're a gem", "ur a legend fr",
]


_SUFFIXES = ["lol", "lmao", "fr", "KEKW", "LUL", "ngl", "!!", "bro", "omg", "tbh"]


def _variant(line: str, rng: np.random.Generator) -> str:
    """Chat-style variation: a trailing "lol"/emote, or all caps."""
    r = rng.random()
    if r < 0.25:
        return f"{line} {rng.choice(_SUFFIXES)}"
    if r < 0.4:
        return line.upper()
    return line


def template_lines(seed: int, per_template: int = 4) -> list[tuple[str, str, str]]:
    """(text, category, target) rows: each template filled with up to ``per_template`` seeded
    choices of addressee / group, in lower case and with a few chat-style variants; the ordinary
    lines come last with category ``"none"``."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, str, str]] = []
    for (cat, target), templates in _TEMPLATES.items():
        for t in templates:
            fills = set()
            for _ in range(per_template):
                p = str(rng.choice(_PEOPLE)).replace("{user}", str(rng.choice(_USERS)))
                g = str(rng.choice(_GROUPS))
                line = _variant(" ".join(t.format(p=p, g=g).split()), rng)
                fills.add(line)
            out += [(f, cat, target) for f in sorted(fills)]
    for t in _BENIGN:
        fills = {_variant(t.format(w=str(rng.choice(_PRAISE))), rng) for _ in range(per_template)}
        out += [(f, "none", "none") for f in sorted(fills)]
    return out


def template_categories() -> list[str]:
    """The categories the templates label."""
    return sorted({c for c, _ in itertools.chain(_TEMPLATES)})
