"""Write the bench's private test sets: `bench/tasks/<task>/test.jsonl`, chat JSONL, never shown to tunewise.

    .venv/bin/python bench/tasks/make_tests.py               # all five, into bench/tasks/<task>/test.jsonl
    .venv/bin/python bench/tasks/make_tests.py --out DIR     # into DIR/<task>/test.jsonl (the test compares)

No model writes a row: each input is composed from vocabularies below with a seeded `random.Random`, and its
reference is built from the same parts, so it is correct by construction. Running the script twice writes
byte-identical files. Each row is
`{"messages": [system = the task's system prompt, user = input, assistant = reference], "metadata": {id, category}}`
(the category feeds the eval's per-category breakdown). No test input equals a seed input of its task.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
TASKS = (
    "orders",
    "routing",
    "rewrite",
    "faq",
    "expenses",
    "appointments",
    "thermostat",
    "slugs",
    "redact",
    "sizes",
    "phones",
    "allergens",
    "languages",
    "groomer",
    "repairs",
    "parcels",
)
SIZES = {
    "orders": 80,
    "routing": 80,
    "rewrite": 60,
    "faq": 60,
    "expenses": 60,
    "appointments": 60,
    "thermostat": 60,
    "slugs": 60,
    "redact": 60,
    "sizes": 60,
    "phones": 60,
    "allergens": 60,
    "languages": 63,
    "groomer": 60,
    "repairs": 60,
    "parcels": 60,
}
SEED = 20261124


# ---------------------------------------------------------------- helpers
def load_task(name: str) -> dict:
    import yaml

    return yaml.safe_load((HERE / name / "task.yaml").read_text(encoding="utf-8"))


def system_prompt(task: dict) -> str:
    return (task.get("system_prompt") or task["spec"]).strip()


def seed_inputs(task: dict) -> set[str]:
    return {_norm(e["input"]) for e in task.get("examples") or []}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def unique_rows(
    name: str, n: int, make: Callable[[random.Random, int], tuple[str, str, str]], rng: random.Random
) -> list[tuple[str, str, str]]:
    """n distinct (input, reference, category) triples from `make(rng, i)`, none equal to a seed input."""
    seeds = seed_inputs(load_task(name))
    seen: set[str] = set()
    out: list[tuple[str, str, str]] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > n * 200:
            raise SystemExit(f"{name}: could not compose {n} distinct inputs (got {len(out)})")
        text, ref, cat = make(rng, len(out))
        key = _norm(text)
        if key in seen or key in seeds:
            continue
        seen.add(key)
        out.append((text, ref, cat))
    return out


# ---------------------------------------------------------------- orders (JSON extraction)
# (singular, plural, may be served black)
DRINKS = [
    ("latte", "lattes", False),
    ("cappuccino", "cappuccinos", False),
    ("flat white", "flat whites", False),
    ("mocha", "mochas", False),
    ("chai latte", "chai lattes", False),
    ("hot chocolate", "hot chocolates", False),
    ("matcha latte", "matcha lattes", False),
    ("cortado", "cortados", False),
    ("iced latte", "iced lattes", False),
    ("macchiato", "macchiatos", False),
    ("americano", "americanos", True),
    ("cold brew", "cold brews", True),
    ("filter coffee", "filter coffees", True),
    ("iced americano", "iced americanos", True),
]
MILK_WORDS = {
    "whole": ["whole milk", "regular milk", "full-fat milk"],
    "skim": ["skim milk", "skimmed milk", "non-fat milk"],
    "oat": ["oat milk", "oat"],
    "soy": ["soy milk", "soya milk"],
    "almond": ["almond milk"],
}
BLACK_WORDS = ["black", "no milk", "without milk", "with nothing in it"]
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
ASKING = ["Can I get", "Could I get", "Could I have", "Can we get", "Please can I have", "May I have"]
TELLING = ["I'd like", "I'll have", "Let me get", "We'll take", "I'll grab", "I need"]
OPENERS = ASKING + TELLING
TAILS = [
    "",
    " to go",
    " for here",
    " with an extra shot",
    " extra hot",
    " with no sugar",
    " to take away",
    " with a caramel drizzle",
]
ENDS = {"ask": ["?", ", please?", " please?"], "tell": [".", ", please.", ", thanks!", ", thank you."]}


def _quantity(rng: random.Random, q: int, article: str) -> str:
    if q == 1:
        return rng.choice([article, "one", "1", "just one"])
    if q == 2 and rng.random() < 0.2:
        return "a couple of"
    if q == 6 and rng.random() < 0.4:
        return "half a dozen"
    return rng.choice([NUMBER_WORDS[q], str(q)])


def make_order(rng: random.Random, i: int) -> tuple[str, str, str]:
    item, plural, may_be_black = rng.choice(DRINKS)
    size = rng.choice(["small", "medium", "large"])
    q = rng.choice([1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8])
    if may_be_black and rng.random() < 0.5:
        milk, milk_word = "none", rng.choice(BLACK_WORDS)
    else:
        milk = rng.choice(list(MILK_WORDS))
        milk_word = rng.choice(MILK_WORDS[milk])
    noun = item if q == 1 else plural
    qty = _quantity(rng, q, "an" if size[0] in "aeiou" else "a")
    size_word = rng.choice([size, size, f"{size}-size"]) if size == "medium" else size
    with_milk = milk_word if milk == "none" else f"with {milk_word}"
    opener, tail = rng.choice(OPENERS), rng.choice(TAILS)
    end = rng.choice(ENDS["ask" if opener in ASKING else "tell"])
    shape = rng.randrange(6)
    if shape == 0:  # Could I get two medium lattes with oat milk to go?
        if milk == "none":
            text = f"{opener} {qty} {size_word} {noun}{tail}, {milk_word}{end}"
        else:
            text = f"{opener} {qty} {size_word} {noun} {with_milk}{tail}{end}"
    elif shape == 1 and milk != "none":  # Three large oat milk flat whites, please.
        word = milk_word if milk_word.endswith("milk") else f"{milk_word} milk"
        text = f"{cap(qty)} {size_word} {word} {noun}{tail}{rng.choice(ENDS['tell'])}"
    elif shape == 2:  # I'll have 4 mochas, medium, with soy milk.
        text = f"{opener} {qty} {noun}, {size_word}, {with_milk}{end}"
    elif shape == 3 and q == 1:  # Medium cappuccino with almond milk for me, please.
        text = f"{cap(size_word)} {item} {with_milk} for me{rng.choice(['.', ', please.', ', cheers.'])}"
    elif shape == 4 and q > 1:  # Order for the office: five large americanos, black.
        who = rng.choice(["the office", "table 6", "the team", "my colleagues", "the meeting room"])
        text = f"Order for {who}: {qty} {size_word} {noun}, {with_milk}{rng.choice(ENDS['tell'])}"
    else:  # Hi! I'd like one large mocha made with whole milk, thanks!
        greet = rng.choice(["Hi! ", "Hello, ", "Morning! ", "Hey there, ", "Good afternoon! "])
        opener = opener if greet.endswith("! ") or opener.startswith("I") else opener[0].lower() + opener[1:]
        if milk == "none":
            text = f"{greet}{opener} {qty} {size_word} {noun}{tail}, {milk_word}{end}"
        else:
            text = f"{greet}{opener} {qty} {size_word} {noun} made with {milk_word}{tail}{end}"
    text = re.sub(r"\s+", " ", text).replace(" ,", ",").strip()
    ref = json.dumps({"item": item, "size": size, "quantity": q, "milk": milk}, ensure_ascii=False)
    return text, ref, f"size={size}"


# ---------------------------------------------------------------- routing (labels)
PRODUCTS = [
    "wireless headset",
    "smartwatch",
    "4K monitor",
    "robot vacuum",
    "e-reader",
    "gaming mouse",
    "mesh router",
    "action camera",
    "soundbar",
    "fitness tracker",
    "mechanical keyboard",
    "smart doorbell",
    "tablet",
    "bluetooth speaker",
]
NAMES = ["Priya", "Tom", "Ines", "Kwame", "Sofia", "Lukas", "Mei", "Daniel", "Aisha", "Marco", "Hanna", "Joe"]
COUNTRIES = ["Iceland", "Portugal", "Poland", "Ireland", "Greece", "Switzerland", "Estonia", "Malta"]
DATES = ["last Monday", "the 3rd", "March 14", "Friday", "two weeks ago", "the 21st", "last week", "Tuesday"]

BODIES = {
    "billing": [
        "I was charged twice for order {order}.",
        "My card was billed {amount} but the invoice only says {amount2}.",
        "I returned the {product} {n} weeks ago and still haven't had my refund.",
        "There's a charge of {amount} on my bank statement that I don't recognise.",
        "The discount code {code} didn't come off my total at checkout.",
        "Could you resend the invoice for order {order}? I need it for my expenses.",
        "My payment for the {product} failed, but the money has left my account.",
        "Please stop charging me {amount} a month for the extended warranty, I cancelled it.",
        "I was charged full price for the {product} even though it was on sale for {amount}.",
        "Can I split the payment for a {product} into monthly instalments?",
        "I need a VAT receipt for the {product} I bought {date}.",
        "The refund for my cancelled order {order} was {amount} short.",
        "Why was I charged a {amount} restocking fee?",
        "Can I pay for order {order} by bank transfer instead of card?",
    ],
    "technical": [
        "My {product} won't turn on since the update last night.",
        "The {product} keeps disconnecting from Bluetooth every few minutes.",
        "The app shows error {err} whenever I try to pair the {product}.",
        "After installing firmware {ver} the {product} is stuck on the logo screen.",
        "The touchscreen on my {product} stopped responding in the bottom corner.",
        "The {product} gets really hot after ten minutes of use.",
        "The battery in my {product} drains from full to empty in about two hours.",
        "How do I reset the {product} to factory settings? It froze completely.",
        "The {product} isn't showing up in the app even though it's switched on.",
        "Sound from the {product} cuts out every few seconds.",
        "The {product} won't connect to my 5 GHz Wi-Fi network.",
        "My {product} restarts by itself several times a day.",
    ],
    "shipping": [
        "My order {order} still hasn't arrived after {n} days.",
        "The tracking for order {order} hasn't moved since {date}.",
        "The courier left my parcel with a neighbour I don't know.",
        "Can I change the delivery address for order {order} to my office?",
        "Do you deliver to {country}, and how long does it take?",
        "Can I upgrade order {order} to next-day delivery?",
        "The tracking page says my parcel was delivered {date}, but nothing came.",
        "Only one of the two boxes in order {order} was delivered.",
        "Can I collect my {product} from a pickup point instead of having it delivered?",
        "The delivery driver never rang the bell and just left a card.",
        "When will the {product} I pre-ordered be shipped?",
        "The parcel with my {product} went to my old address.",
    ],
    "account": [
        "I can't log in: it says my password is wrong even after I reset it.",
        "The password reset link in your email has already expired.",
        "How do I change the phone number on my account?",
        "Please close my account and delete my personal data.",
        "My account got locked after too many login attempts.",
        "The two-factor code never arrives on my new phone.",
        "I have two accounts with different emails, can you merge them?",
        "I'd like to change the name on my profile to {name2}.",
        "Somebody changed the email address on my account without my permission.",
        "How do I download a copy of the personal data you store about me?",
        "I signed up with my work email and need to move the account to my private address.",
        "I never get the verification email when I try to sign in.",
    ],
}
CONTEXT = {
    "billing": [
        "I paid with the card ending in {last4}.",
        "The order total was {amount}.",
        "I'd like this sorted before my next statement.",
        "I have the bank statement if you need it.",
    ],
    "technical": [
        "I've already tried turning it off and on again.",
        "The app is on the latest version.",
        "I bought it {n} weeks ago.",
        "My phone is an Android, if that helps.",
    ],
    "shipping": [
        "I paid for express delivery.",
        "My postcode is {postcode}.",
        "I need it before the weekend.",
        "It is a birthday present, so the date matters.",
    ],
    "account": [
        "My username is {user}.",
        "I still have access to my old email address.",
        "I've had this account for years.",
        "I'm using the website, not the app.",
    ],
}
GREETINGS = ["", "", "Hi,", "Hello,", "Hi there!", "Good morning,", "Hey,", "Dear support team,"]
SIGNOFFS = ["", "", "Thanks.", "Thanks in advance!", "Cheers, {name}", "Regards, {name}", "Please help."]


def _slots(rng: random.Random) -> dict:
    a = rng.randrange(5, 400) + rng.choice([0.0, 0.99, 0.49, 0.5])
    return {
        "order": f"#{rng.randrange(100000, 999999)}",
        "amount": f"€{a:.2f}",
        "amount2": f"€{a - rng.randrange(3, 40):.2f}",
        "product": rng.choice(PRODUCTS),
        "n": rng.randrange(2, 15),
        "date": rng.choice(DATES),
        "code": rng.choice(["SPRING10", "WELCOME15", "BLACKFRI", "STUDENT20", "FREESHIP"]),
        "err": f"E-{rng.randrange(100, 999)}",
        "ver": f"{rng.randrange(1, 5)}.{rng.randrange(0, 20)}.{rng.randrange(0, 9)}",
        "country": rng.choice(COUNTRIES),
        "name": rng.choice(NAMES),
        "name2": f"{rng.choice(NAMES)} {rng.choice(['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Silva', 'Novak'])}",
        "last4": f"{rng.randrange(0, 10000):04d}",
        "postcode": f"{rng.randrange(10000, 99999)}",
        "user": f"{rng.choice(NAMES).lower()}{rng.randrange(10, 99)}",
    }


def make_routing(rng: random.Random, i: int) -> tuple[str, str, str]:
    labels = list(BODIES)
    block = random.Random(SEED + i // 4).sample(labels, len(labels))  # every 4 rows: each label once
    label = block[i % 4]
    s = _slots(rng)
    greeting, body = rng.choice(GREETINGS), rng.choice(BODIES[label]).format(**s)
    if greeting.endswith(",") and not re.match(r"I\b|I'", body):
        body = body[0].lower() + body[1:]
    parts = [greeting, body]
    if rng.random() < 0.45:
        parts.append(rng.choice(CONTEXT[label]).format(**s))
    parts.append(rng.choice(SIGNOFFS).format(**s))
    return " ".join(p for p in parts if p), label, label


# ---------------------------------------------------------------- rewrite (news sentence → headline)
# category: ([(actor in a sentence, actor in a headline)], [(action in a sentence, action in a headline)], sources)
EVENTS = {
    "city": (
        [
            ("the town council of Ravensholt", "Ravensholt Council"),
            ("the city of Marrowby", "Marrowby"),
            ("Dunmere city hall", "Dunmere"),
            ("the regional government of Westfold", "Westfold"),
        ],
        [
            (
                "approved a plan to plant 5,000 trees along its main roads",
                "Approves Plan to Plant 5,000 Trees",
            ),
            ("banned cars from the old town centre on weekends", "Bans Cars From Old Town on Weekends"),
            ("raised parking fees by 20 percent", "Raises Parking Fees by 20 Percent"),
            ("opened a new public swimming pool", "Opens New Public Swimming Pool"),
            ("cut the price of monthly bus passes to 30 euros", "Cuts Monthly Bus Pass Price to 30 Euros"),
            ("delayed the opening of its new library until spring", "Delays New Library Until Spring"),
        ],
        ["officials said", "a spokesperson said", "local media reported"],
    ),
    "company": (
        [
            ("the furniture maker Oakhollow", "Oakhollow"),
            ("online grocer Basketly", "Basketly"),
            ("the carmaker Veltro", "Veltro"),
            ("software company Nimbusoft", "Nimbusoft"),
        ],
        [
            ("cut 300 jobs at its head office", "Cuts 300 Jobs at Head Office"),
            ("reported record sales for the third quarter", "Reports Record Third-Quarter Sales"),
            (
                "recalled 12,000 products because of a safety fault",
                "Recalls 12,000 Products Over Safety Fault",
            ),
            (
                "agreed to buy its smaller rival for 2 billion euros",
                "Agrees to Buy Rival for 2 Billion Euros",
            ),
            ("moved its headquarters to the capital", "Moves Headquarters to the Capital"),
            ("named a new chief executive", "Names New Chief Executive"),
        ],
        ["the company said", "a spokesperson said", "analysts said"],
    ),
    "science": (
        [
            ("scientists at Harrowgate University", "Harrowgate Scientists"),
            ("researchers at the Pellow Institute", "Pellow Researchers"),
            ("scientists at the Aldren Research Centre", "Aldren Scientists"),
        ],
        [
            ("discovered a new species of frog in the northern hills", "Discover New Frog Species"),
            ("developed a battery that charges in five minutes", "Develop Five-Minute Battery"),
            ("found that daily walks cut the risk of heart disease", "Find Daily Walks Cut Heart Risk"),
            ("mapped the sea floor around the Skerry Islands", "Map Sea Floor Around Skerry Islands"),
            ("tested a cheap blood test for early cancer", "Trial Cheap Blood Test for Cancer"),
        ],
        ["a study showed", "the team said", "a report said"],
    ),
    "sport": (
        [
            ("the Kestrel Rovers", "Kestrel Rovers"),
            ("the Ashby Hawks", "Ashby Hawks"),
            ("the Tidewater Otters", "Tidewater Otters"),
        ],
        [
            ("signed the young striker Leo Brandt", "Sign Young Striker Leo Brandt"),
            ("won the regional championship for the first time", "Win Regional Championship for First Time"),
            (
                "sacked their head coach after ten straight defeats",
                "Sack Head Coach After Ten Straight Defeats",
            ),
            ("unveiled plans for a new 20,000-seat stadium", "Unveil Plans for New 20,000-Seat Stadium"),
            ("beat their local rivals 4-0", "Beat Local Rivals 4-0"),
        ],
        ["the club said", "the club confirmed", "local media reported"],
    ),
}
WHEN = [
    "on Monday",
    "on Tuesday",
    "on Wednesday",
    "on Thursday",
    "on Friday",
    "this week",
    "yesterday",
    "late on Sunday",
]
SMALL_WORDS = {"a", "an", "the", "and", "or", "for", "of", "in", "on", "at", "to", "by", "as", "vs"}


def is_title_case(headline: str) -> bool:
    words = headline.split()
    for k, w in enumerate(words):
        first = next((c for c in w if c.isalpha()), None)
        if first is None or (w.lower() in SMALL_WORDS and 0 < k < len(words) - 1):
            continue
        if not first.isupper():
            return False
    return True


REWRITE_COMBOS = [
    (cat, actor, action)
    for cat, (actors, actions, _) in EVENTS.items()
    for actor in actors
    for action in actions
]


def make_rewrite(rng: random.Random, i: int) -> tuple[str, str, str]:
    cat, (actor, actor_h), (action, action_h) = REWRITE_COMBOS[_REWRITE_ORDER[i % len(_REWRITE_ORDER)]]
    source, when = rng.choice(EVENTS[cat][2]), rng.choice(WHEN)
    shape = rng.randrange(4)
    if shape == 0:
        text = f"{cap(when)}, {actor} {action}."
    elif shape == 1:
        text = f"{cap(actor)} {action} {when}, {source}."
    elif shape == 2:
        text = f"{cap(actor)} {action}, {source} {when}."
    else:
        text = f"{cap(actor)} {action} {when}."
    headline = f"{actor_h} {action_h}"
    if len(headline) >= 60 or not is_title_case(headline):
        raise SystemExit(f"rewrite: bad reference headline {headline!r}")
    return text, headline, cat


_REWRITE_ORDER: list[int] = []


# ---------------------------------------------------------------- faq (documents)
# (document, the answer: a sentence copied from it, questions in different wordings). None of these facts
# is covered by a seed in faq/task.yaml: the test asks only about facts the seeds never show.
FAQ_FACTS = [
    (
        "pricing.md",
        "A ten-visit card costs €160 and is valid for six months from the first visit.",
        [
            "How much is a ten-visit card?",
            "Do you sell a card for ten visits, and how long is it valid?",
            "What does the 10-visit pass cost?",
        ],
    ),
    (
        "pricing.md",
        "The Flex membership costs €189 per month and gives access to any free desk during opening hours.",
        [
            "What is the monthly price of the Flex membership?",
            "How much does Flex cost per month?",
            "What do I get with a Flex membership and what does it cost?",
        ],
    ),
    (
        "pricing.md",
        "The Dedicated Desk membership costs €279 per month and includes your own desk and a small lockable cabinet.",
        [
            "How much is a dedicated desk?",
            "What's the price of having my own fixed desk?",
            "What does the Dedicated Desk plan include?",
        ],
    ),
    (
        "pricing.md",
        "A private office for up to four people costs €1,150 per month.",
        [
            "How much is a private office?",
            "What would an office for our team of four cost per month?",
            "Do you rent private offices, and at what price?",
        ],
    ),
    (
        "pricing.md",
        "Students with a valid student card get 25% off the Flex membership.",
        [
            "Is there a student discount?",
            "I'm a student, do I get a reduced price?",
            "How much cheaper is Flex for students?",
        ],
    ),
    (
        "pricing.md",
        "Members who pay for twelve months in advance get one month free.",
        [
            "Is there a discount for paying a year upfront?",
            "What do I get if I pay for a whole year in advance?",
            "Do annual payments come with any deal?",
        ],
    ),
    (
        "pricing.md",
        "The large boardroom seats 14 people and costs €65 per hour for everyone.",
        [
            "How many people fit in the boardroom?",
            "What does the big boardroom cost per hour?",
            "Can we book the boardroom for a meeting of twelve, and what's the rate?",
        ],
    ),
    (
        "hours.md",
        "Harbourlight Workspace is open Monday to Friday from 07:00 to 22:00.",
        [
            "What are your opening hours during the week?",
            "How early can I come in on a Tuesday?",
            "Until what time are you open on weekdays?",
        ],
    ),
    (
        "hours.md",
        "The space is closed on Sundays.",
        ["Are you open on Sundays?", "Can I come and work on a Sunday?", "What are the Sunday hours?"],
    ),
    (
        "hours.md",
        "On public holidays the space is open from 10:00 to 16:00.",
        [
            "Are you open on bank holidays?",
            "What are the hours on a public holiday?",
            "Can I work there on New Year's Day?",
        ],
    ),
    (
        "hours.md",
        "Dedicated Desk and private office members have 24-hour access with their key fob.",
        [
            "Can I get in at night?",
            "Who has access around the clock?",
            "Is there 24/7 access for some members?",
        ],
    ),
    (
        "hours.md",
        "The reception desk is staffed on weekdays from 08:30 to 17:30.",
        [
            "When is someone at reception?",
            "What hours is the front desk staffed?",
            "Until what time can I speak to reception on a weekday?",
        ],
    ),
    (
        "hours.md",
        "The members' kitchen closes 30 minutes before the space closes.",
        [
            "When does the kitchen close?",
            "Can I use the kitchen until closing time?",
            "What time does the members' kitchen shut?",
        ],
    ),
    (
        "house-rules.md",
        "Policy HL-12: phone and video calls are only allowed in the phone booths and meeting rooms, never in the quiet zone on the second floor.",
        [
            "Where am I allowed to take phone calls?",
            "Can I do a video call at my desk in the quiet zone?",
            "What's the rule about calls?",
        ],
    ),
    (
        "house-rules.md",
        "There are six phone booths, and each booth can be used for at most 45 minutes at a time.",
        [
            "How many phone booths do you have?",
            "How long can I stay in a phone booth?",
            "Is there a time limit for the call booths?",
        ],
    ),
    (
        "house-rules.md",
        "Guests of a member can stay for free for up to three hours.",
        [
            "How long can my guest stay without paying?",
            "Do my visitors have to pay?",
            "Is there a time limit for free guest visits?",
        ],
    ),
    (
        "house-rules.md",
        "Policy HL-30: a meeting room booking cancelled less than 24 hours in advance is charged at 50% of the price.",
        [
            "What if I cancel a meeting room booking at short notice?",
            "Is there a cancellation fee for meeting rooms?",
            "I need to cancel tomorrow's room booking, will I be charged?",
        ],
    ),
    (
        "membership.md",
        "You must be at least 18 years old to become a member.",
        [
            "Is there a minimum age for members?",
            "Can my 16-year-old son become a member?",
            "How old do I have to be to join?",
        ],
    ),
    (
        "membership.md",
        "Memberships can be cancelled with 30 days' written notice, sent to the membership email address.",
        [
            "How do I cancel my membership?",
            "What is the notice period for cancelling?",
            "How much notice do I need to give to quit?",
        ],
    ),
    (
        "membership.md",
        "Invoices are sent on the first day of each month and are paid by card or SEPA direct debit.",
        [
            "When do you send invoices?",
            "How can I pay my monthly invoice?",
            "Which payment methods do you accept?",
        ],
    ),
    (
        "facilities.md",
        "Monthly members get 100 free printed pages per month, and every further page costs €0.08.",
        [
            "How much does printing cost?",
            "Is printing included in my membership?",
            "How many pages can I print for free?",
        ],
    ),
    (
        "facilities.md",
        "Lockers can be rented for €12 per month.",
        ["Can I rent a locker?", "How much is a locker per month?", "What does it cost to have a locker?"],
    ),
    (
        "facilities.md",
        "There are 40 bike parking spaces in the basement, and they are free for members.",
        [
            "Where can I park my bike?",
            "Is there bike parking, and do I have to pay for it?",
            "How many bike spaces do you have?",
        ],
    ),
    (
        "facilities.md",
        "Two showers are available on the ground floor, and towels cost €2 each.",
        [
            "Do you have showers?",
            "Can I shower after cycling in, and do you have towels?",
            "Where are the showers?",
        ],
    ),
    (
        "facilities.md",
        "The members' kitchen has free tea, and filter coffee costs €1 per cup for non-members.",
        ["Is the tea free?", "How much is a coffee for a non-member?", "What do drinks cost in the kitchen?"],
    ),
    (
        "location.md",
        "Harbourlight Workspace is at 14 Pilchard Quay, Port Averly.",
        ["What is your address?", "Where exactly are you located?", "Where is Harbourlight Workspace?"],
    ),
    (
        "location.md",
        "Car parking at the Quay garage costs €2.50 per hour, and members get the first two hours free.",
        [
            "Where can I park my car and what does it cost?",
            "Do members get free parking?",
            "How much is parking at the Quay garage?",
        ],
    ),
    (
        "location.md",
        "The community lunch takes place every Thursday at 12:30 and costs €6.",
        [
            "When is the community lunch?",
            "How much does the Thursday lunch cost?",
            "Do you have any social events like a shared lunch?",
        ],
    ),
    (
        "location.md",
        "You can reach the team at hello@harbourlight.example, and we answer within one business day.",
        ["What's your email address?", "How fast do you reply to emails?", "How can I contact the team?"],
    ),
    (
        "location.md",
        "For urgent problems outside reception hours, call the duty phone on 0301 555 0142.",
        [
            "Who do I call in an emergency at night?",
            "Is there a phone number for urgent problems?",
            "What's the duty phone number?",
        ],
    ),
]
FAQ_PREFIXES = ["", "", "", "Quick question: ", "Hi! ", "Hello, ", "Sorry to bother you, but ", "Hey, "]


def _faq_plan(rng: random.Random) -> list[tuple[int, int]]:
    """(fact, question) pairs: two different wordings of every fact, in a shuffled order."""
    plan = [(f, q) for f in range(len(FAQ_FACTS)) for q in rng.sample(range(len(FAQ_FACTS[f][2])), 2)]
    rng.shuffle(plan)
    return plan


_FAQ_PLAN: list[tuple[int, int]] = []


def make_faq(rng: random.Random, i: int) -> tuple[str, str, str]:
    f, q = _FAQ_PLAN[i % len(_FAQ_PLAN)]
    doc, answer, questions = FAQ_FACTS[f]
    text = questions[q]
    prefix = rng.choice(FAQ_PREFIXES)
    if prefix and not prefix.endswith("! ") and not re.match(r"I\b|I'", text):
        text = text[0].lower() + text[1:]
    return prefix + text, answer, doc.removesuffix(".md")


def check_faq_answers(docs_dir: Path) -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in docs_dir.glob("*.md")}
    for doc, answer, _ in FAQ_FACTS:
        if answer not in texts.get(doc, ""):
            raise SystemExit(f"faq: answer not copied verbatim from documents/{doc}: {answer!r}")


# ---------------------------------------------------------------- expenses (JSON: decimal amount + two enums)
EXPENSE_ITEMS = {
    "meals": [
        "Lunch with the supplier at Chez Marius",
        "Sandwiches for the board meeting",
        "Coffee and pastries for the workshop",
        "Dinner with a prospective client",
        "Team lunch after the product launch",
        "Pizza for the late release night",
    ],
    "travel": [
        "Taxi to the train station",
        "Return flight to Madrid",
        "Airport parking for three days",
        "Bus ticket to the client site",
        "Fuel for the rental car",
        "Train from Zurich to Geneva",
    ],
    "lodging": [
        "Hotel in Munich for two nights",
        "One night at the Marriott near the venue",
        "Airbnb for the offsite in Porto",
        "Bed and breakfast in Edinburgh, 2 nights",
        "Conference hotel room in Basel",
    ],
    "office": [
        "Printer ink cartridges",
        "Notebooks and pens for the new starters",
        "A desk lamp for the home office",
        "Box of A4 paper and staples",
        "Whiteboard markers and a flip chart",
    ],
    "software": [
        "Annual Figma licence",
        "Zoom Pro subscription for March",
        "Three GitHub Copilot seats",
        "Adobe Acrobat monthly plan",
        "One year of a password manager for the team",
    ],
    "other": [
        "Visa application fee",
        "Flowers for a colleague's farewell",
        "Courier fee for the signed contracts",
        "Bank charge for an international transfer",
        "Coat check at the awards dinner",
    ],
}
CURRENCY_FORMS = {  # how an amount x is written in that currency
    "EUR": ["€{x}", "{x} euros", "{x} EUR", "EUR {x}", "{x}€"],
    "USD": ["${x}", "{x} dollars", "{x} USD", "US${x}"],
    "GBP": ["£{x}", "{x} pounds", "{x} GBP"],
    "CHF": ["CHF {x}", "{x} Swiss francs", "{x} CHF", "{x} francs"],
}
CURRENCY_WORDS = {"EUR": "euros", "USD": "dollars", "GBP": "pounds", "CHF": "francs"}
TENS = {
    20: "twenty",
    30: "thirty",
    40: "forty",
    50: "fifty",
    60: "sixty",
    70: "seventy",
    80: "eighty",
    90: "ninety",
}
SMALL = {
    **{k: v for k, v in NUMBER_WORDS.items()},
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    15: "fifteen",
    18: "eighteen",
}
JOINERS = [", ", " - ", " — ", ": ", " for "]


def _amount_words(rng: random.Random, cur: str) -> tuple[str, float]:
    """'twelve euros fifty' (12.5) or 'forty dollars' (40)."""
    if rng.random() < 0.5:
        whole, cents = rng.choice(list(SMALL)), rng.choice([50, 20, 80])
        return f"{SMALL[whole]} {CURRENCY_WORDS[cur]} {TENS[cents]}", whole + cents / 100
    tens = rng.choice(list(TENS))
    return f"{TENS[tens]} {CURRENCY_WORDS[cur]}", float(tens)


def make_expense(rng: random.Random, i: int) -> tuple[str, str, str]:
    category = list(EXPENSE_ITEMS)[i % len(EXPENSE_ITEMS)]
    item = rng.choice(EXPENSE_ITEMS[category])
    cur = rng.choice(list(CURRENCY_FORMS))
    if rng.random() < 0.15:
        written, amount = _amount_words(rng, cur)
    else:
        cents = rng.choice([0, 0, 0, 50, 90, 99, 40, 25, 75, 10])
        top = 900 if category in ("lodging", "travel", "software") else 160
        amount = rng.randint(4, top) + cents / 100
        digits = f"{amount:.2f}" if cents else str(int(amount))
        written = rng.choice(CURRENCY_FORMS[cur]).format(x=digits)
    text = (
        f"{item}{rng.choice(JOINERS)}{written}"
        if rng.random() < 0.8
        else f"{written} {rng.choice(['for', 'on'])} {item[0].lower()}{item[1:]}"
    )
    text = text + rng.choice(["", "", ".", ". Receipt attached.", " (receipt in the app)"])
    number = int(amount) if amount == int(amount) else round(amount, 2)
    ref = json.dumps({"amount": number, "currency": cur, "category": category}, ensure_ascii=False)
    return text, ref, f"category={category}"


# ---------------------------------------------------------------- appointments (date and time, exact match)
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
HOUR_WORDS = [
    "twelve",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
]
APPT_PURPOSE = [
    "a check-up", "a cleaning", "a filling", "a six-month check-up", "a crown fitting", "a root canal consultation",
    "whitening", "an emergency — my filling fell out", "a wisdom tooth consultation", "a hygiene appointment",
]  # fmt: skip
APPT_OPENERS = [
    "Hi, could I book {what} on {when}?",
    "Hello, I'd like {what} on {when} please.",
    "Can you fit me in for {what}, {when}?",
    "I need to reschedule {what} to {when}.",
    "{When} for {what}, if that's free.",
    "Good morning — is {when} available for {what}?",
    "please book {what} {when}, thanks",
    "Booking for my mother: {what}, {when}.",
    "Would {when} work for {what}? Thanks, Sam",
]


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _appt_date(rng: random.Random, day) -> tuple[str, str]:
    """(written date, its form's name)."""
    month = MONTHS[day.month - 1]
    forms = {
        "d month y": f"{day.day} {month} {day.year}",
        "the dth of month y": f"the {_ordinal(day.day)} of {month} {day.year}",
        "month d, y": f"{month} {day.day}, {day.year}",
        "weekday d month y": f"{day.strftime('%A')} {day.day} {month} {day.year}",
        "dd/mm/yyyy": f"{day.day:02d}/{day.month:02d}/{day.year}",
        "d mon y": f"{day.day} {month[:3]} {day.year}",
        "weekday the dth of month y": f"{day.strftime('%A')} the {_ordinal(day.day)} of {month} {day.year}",
    }
    name = rng.choice(list(forms))
    return forms[name], name


def _appt_time(rng: random.Random) -> tuple[str, int, int, str]:
    """(written time, hour 0–23, minute, its form's name)."""
    hour = rng.choice([8, 9, 9, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 16, 17, 18])
    minute = rng.choice([0, 0, 0, 15, 30, 30, 45])
    h12 = hour % 12 or 12
    ampm = "am" if hour < 12 else "pm"
    part = "in the morning" if hour < 12 else ("in the afternoon" if hour < 18 else "in the evening")
    forms = {
        "3pm": f"{h12}{ampm}" if minute == 0 else f"{h12}:{minute:02d}{ampm}",
        "3 PM": f"{h12} {ampm.upper()}" if minute == 0 else f"{h12}.{minute:02d} {ampm.upper()}",
        "24h": f"{hour:02d}:{minute:02d}",
        "words": (
            f"{HOUR_WORDS[h12 % 12]} o'clock {part}"
            if minute == 0
            else f"half past {HOUR_WORDS[h12 % 12]} {part}"
            if minute == 30
            else f"quarter past {HOUR_WORDS[h12 % 12]} {part}"
            if minute == 15
            else f"quarter to {HOUR_WORDS[(h12 + 1) % 12]} {part}"
        ),
    }
    if hour == 12 and minute == 0:
        forms["words"] = "noon"
    name = rng.choice(list(forms))
    return forms[name], hour, minute, name


def make_appointment(rng: random.Random, i: int) -> tuple[str, str, str]:
    import datetime as dt

    day = dt.date(2027, 1, 4) + dt.timedelta(days=rng.randint(0, 540))
    date_text, date_form = _appt_date(rng, day)
    time_text, hour, minute, time_form = _appt_time(rng)
    when = f"{date_text} at {time_text}" if rng.random() < 0.8 else f"{time_text} on {date_text}"
    opener = rng.choice(APPT_OPENERS)
    text = opener.format(what=rng.choice(APPT_PURPOSE), when=when, When=cap(when))
    ref = f"{day.isoformat()} {hour:02d}:{minute:02d}"
    return text, ref, f"date={date_form}; time={time_form}"


# ---------------------------------------------------------------- thermostat (arithmetic, exact match)
THERMO_FORMS = {
    "°F": "{f}°F",
    "° F": "{f} °F",
    "F": "{f} F",
    "degrees Fahrenheit": "{f} degrees Fahrenheit",
    "degrees F": "{f} degrees F",
    "fahrenheit": "{f} fahrenheit",
}
THERMO_OPENERS = [
    "Set the {room} to {t} please.",
    "Can you put the {room} on {t}?",
    "The {room} sensor reads {t}.",
    "{Room} thermostat: {t} from now on.",
    "It says {t} in the {room}, what's that in Celsius?",
    "Turn the {room} down to {t} tonight.",
    "Alert me if the {room} goes over {t}.",
    "hey, make the {room} {t}",
]
THERMO_ROOMS = [
    "kitchen",
    "office",
    "nursery",
    "guest room",
    "hallway",
    "wine cellar",
    "sunroom",
    "basement",
    "attic",
    "porch",
    "spa",
    "workshop",
]


def make_thermostat(rng: random.Random, i: int) -> tuple[str, str, str]:
    import math

    f = rng.choice([rng.randint(-20, 31), rng.randint(32, 110), rng.randint(120, 450)])
    form = rng.choice(list(THERMO_FORMS))
    room = rng.choice(THERMO_ROOMS)
    t = THERMO_FORMS[form].format(f=f)
    text = rng.choice(THERMO_OPENERS).format(room=room, Room=cap(room), t=t)
    c = (f - 32) * 5 / 9  # a ninth is never exactly a half: plain rounding is unambiguous
    ref = str(math.floor(c + 0.5))
    band = "below freezing" if f < 32 else ("room and weather" if f <= 110 else "oven")
    return text, ref, f"range={band}; unit={form}"


# ---------------------------------------------------------------- slugs (a shop's titles → URL slugs, exact)
SLUG_BRANDS = [
    "Nordlys",
    "Café Rouge",
    "Kid's Corner",
    "Müller & Sons",
    "Olé",
    "Bright&Co",
    "Tōkyō Line",
    "Ffion's",
    "Zoë",
    "Björn",
    "Crème",
    "Atelier Noël",
]
SLUG_ADJ = [
    "Organic",
    "Vintage",
    "Waterproof",
    "Extra-Large",
    "Hand-made",
    "Slim",
    "Eco",
    "Heavy Duty",
    "Non-stick",
    "Wireless",
    "Kids'",
    "Men's",
    "Women's",
    "Rustic",
    "Mini",
]
SLUG_MATERIAL = [
    "Cotton",
    "Linen",
    "Oak",
    "Cast Iron",
    "Stainless Steel",
    "Ceramic",
    "Wool",
    "Bamboo",
    "Leather",
    "Glass",
    "Merino",
    "Crêpe",
]
SLUG_NOUN = [
    "T-Shirt",
    "Frying Pan",
    "Desk Lamp",
    "Throw Blanket",
    "Tea Set",
    "Backpack",
    "Cutting Board",
    "Scarf",
    "Water Bottle",
    "Plant Pot",
    "Headphones",
    "Rain Jacket",
    "Mug",
    "Socks (3-Pack)",
]
SLUG_EXTRA = [
    "",
    "",
    "",
    " - Blue",
    " – Size M",
    ", 500 ml",
    " (2nd Edition)",
    ' 12"',
    " & Lid",
    " / Grey",
    " 2-Pack",
    ": Gift Box",
    "!",
    " 100% Wool",
]


def slugify(title: str) -> str:
    """The slug rule the task states: ASCII lowercase (accents dropped), '&' → 'and', apostrophes and
    quotes removed, every other run of non-alphanumerics → one hyphen, none at the ends."""
    import re
    import unicodedata

    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    t = t.replace("&", " and ").replace("'", "").replace('"', " inch ")
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")


def make_slug(rng: random.Random, i: int) -> tuple[str, str, str]:
    parts = []
    if rng.random() < 0.6:
        parts.append(rng.choice(SLUG_BRANDS))
    if rng.random() < 0.8:
        parts.append(rng.choice(SLUG_ADJ))
    if rng.random() < 0.7:
        parts.append(rng.choice(SLUG_MATERIAL))
    parts.append(rng.choice(SLUG_NOUN))
    title = " ".join(parts) + rng.choice(SLUG_EXTRA)
    hard = [
        k
        for k, hit in (
            ("accent", title != title.encode("ascii", "ignore").decode()),
            ("ampersand", "&" in title),
            ("apostrophe", "'" in title),
            ("punctuation", any(c in title for c in '()–:,/!%"')),
        )
        if hit
    ]
    return title, slugify(title), "has=" + ("+".join(hard) or "plain")


def slug_inputs(n: int = 150) -> list[str]:
    """The shop's catalogue titles without slugs (the task's inputs file): another seed than the test's,
    none equal to a test or seed input."""
    rng = random.Random(f"{SEED}-slugs-inputs")
    test = {_norm(r["messages"][1]["content"]) for r in build("slugs")}
    seen = seed_inputs(load_task("slugs")) | test
    out: list[str] = []
    while len(out) < n:
        title = make_slug(rng, len(out))[0]
        if _norm(title) not in seen:
            seen.add(_norm(title))
            out.append(title)
    return out


# ---------------------------------------------------------------- redact (names, emails, phones → placeholders)
RED_FIRST = [
    "Amara",
    "Jonas",
    "Sofia",
    "Callum",
    "Mei",
    "Rafael",
    "Ingrid",
    "Tariq",
    "Chloé",
    "Dmitri",
    "Nia",
    "Hugo",
    "Aoife",
    "Kwame",
    "Lena",
    "Mateo",
    "Saanvi",
    "Owen",
    "Yuki",
    "Fatima",
]
RED_LAST = [
    "Mensah",
    "Lindqvist",
    "Moreau",
    "O'Brien",
    "Tanaka",
    "Castillo",
    "Novak",
    "Haddad",
    "Whitfield",
    "Kowalski",
    "Adeyemi",
    "Fischer",
    "Ramos",
    "Petrova",
    "MacLeod",
]
RED_DOMAINS = ["gmail.com", "outlook.com", "web.de", "proton.me", "icloud.com", "yahoo.co.uk", "mail.ie"]
# (format, category) phone numbers: UK, international, US, with dots, with dashes
RED_PHONES = [
    "07{a:03d} {b:06d}",
    "+44 7{a:03d} {b:06d}",
    "(555) {a:03d}-{c:04d}",
    "+1 555 {a:03d} {c:04d}",
    "06.{d:02d}.{e:02d}.{f:02d}.{g:02d}",
    "+49 30 {b:06d}",
    "0{a:03d}-{b:06d}",
]
# numbers that are not phone numbers: they stay as they are
RED_REFS = [
    "order {o}",
    "order #{o}",
    "invoice INV-{o}",
    "parcel 1Z{o}{o2}",
    "order {o} (postcode M{d} {e}AB)",
]
RED_MONEY = ["£{p}.99", "€{p}.50", "${p}.00"]
RED_PLACES = ["Harbour Road store", "Baker Street branch", "Lakeside shop", "King's Cross pickup point"]
RED_BRANDS = ["Philips", "Dyson", "IKEA", "Bosch", "Samsung"]  # companies, not people
RED_TEMPLATES = [
    # (text with slots, answer with slots); {name} {first} {email} {phone} {ref} {place} {brand}
    (
        "Hi, it's {name}. My {brand} kettle ({ref}) leaks.",
        "Hi, it's [NAME]. My {brand} kettle ({ref}) leaks.",
    ),
    (
        "Please call me back on {phone}, I've waited a week for a refund of {money}.",
        "Please call me back on [PHONE], I've waited a week for a refund of {money}.",
    ),
    (
        "{name} here - you can reach me at {email} about {ref}.",
        "[NAME] here - you can reach me at [EMAIL] about {ref}.",
    ),
    (
        "The courier, {first}, was rude at the {place} today.",
        "The courier, [NAME], was rude at the {place} today.",
    ),
    (
        "Why was I charged {money} twice? My email is {email}.",
        "Why was I charged {money} twice? My email is [EMAIL].",
    ),
    (
        "My {brand} vacuum stopped working, {ref}. Thanks, {name}",
        "My {brand} vacuum stopped working, {ref}. Thanks, [NAME]",
    ),
    (
        "Can you change the delivery for {ref}? Text {phone} or mail {email}.",
        "Can you change the delivery for {ref}? Text [PHONE] or mail [EMAIL].",
    ),
    (
        "I returned {ref} at the {place} and still have no refund.",
        "I returned {ref} at the {place} and still have no refund.",
    ),
    (
        "My son {first} ordered this on my card. I'm {name}, {phone}.",
        "My son [NAME] ordered this on my card. I'm [NAME], [PHONE].",
    ),
    (
        "Hello, {first} from your shop said I'd get a voucher for {money}.",
        "Hello, [NAME] from your shop said I'd get a voucher for {money}.",
    ),
    (
        "Wrong colour sent ({ref}). Contact: {name}, {email}",
        "Wrong colour sent ({ref}). Contact: [NAME], [EMAIL]",
    ),
    (
        "Is the {brand} blender back in stock at the {place}?",
        "Is the {brand} blender back in stock at the {place}?",
    ),
]


def _red_fill(rng: random.Random) -> dict:
    first, last = rng.choice(RED_FIRST), rng.choice(RED_LAST)
    name = rng.choice([f"{first} {last}", first, f"{first} {last}"])
    user = rng.choice(
        [f"{first}.{last}", f"{first[0]}{last}", f"{first}_{rng.randint(1, 99)}", f"{last}{first[0]}"]
    )
    user = "".join(c for c in user.lower() if c.isascii() and (c.isalnum() or c in "._"))
    nums = {
        "a": rng.randint(100, 999),
        "b": rng.randint(100000, 999999),
        "c": rng.randint(1000, 9999),
        "d": rng.randint(10, 99),
        "e": rng.randint(10, 99),
        "f": rng.randint(10, 99),
        "g": rng.randint(10, 99),
    }
    deco = {"o": rng.randint(10000, 99999), "o2": rng.randint(100, 999), "p": rng.randint(5, 299)}
    deco |= {"d": rng.randint(1, 40), "e": rng.randint(1, 9)}
    return {
        "name": name,
        "first": rng.choice(RED_FIRST),
        "email": f"{user}@{rng.choice(RED_DOMAINS)}",
        "phone": rng.choice(RED_PHONES).format(**nums),
        "ref": rng.choice(RED_REFS).format(**deco),
        "money": rng.choice(RED_MONEY).format(**deco),
        "place": rng.choice(RED_PLACES),
        "brand": rng.choice(RED_BRANDS),
    }


def make_redact(rng: random.Random, i: int) -> tuple[str, str, str]:
    text, answer = (
        RED_TEMPLATES[i % len(RED_TEMPLATES)] if i < len(RED_TEMPLATES) else rng.choice(RED_TEMPLATES)
    )
    slots = _red_fill(rng)
    has = [
        k for k in ("name", "email", "phone") if "{" + k + "}" in text or (k == "name" and "{first}" in text)
    ]
    return text.format(**slots), answer.format(**slots), "has=" + ("+".join(has) or "nothing")


# ---------------------------------------------------------------- sizes
SIZE_COLOURS = [
    "black",
    "navy",
    "grey",
    "cream",
    "khaki",
    "burgundy",
    "white",
    "forest green",
    "mustard",
    "pink",
]
SIZE_SHOES = [  # (brand and model, kind): the model numbers are numbers that are not sizes
    ("Nike Air Max 90", "trainers"),
    ("New Balance 574", "trainers"),
    ("Asics Gel-Kayano 30", "running shoes"),
    ("Clarks Desert", "boots"),
    ("Vans Old Skool", "trainers"),
    ("Birkenstock Arizona", "sandals"),
    ("Timberland 6-inch", "boots"),
    ("Converse Chuck 70", "high tops"),
]
SIZE_TOPS = [
    "hoodie",
    "linen shirt",
    "wool jumper",
    "denim jacket",
    "fleece",
    "rain jacket",
    "polo shirt",
    "blazer",
]
SIZE_BRANDS = ["Uniqlo", "Patagonia", "Zara", "Ralph Lauren", "Carhartt", "Seasalt", "Boden", "Jack Wills"]
SIZE_EXTRAS = [  # (text, kind): what may sit beside a size without being one
    ("3-pack", "count"),
    ("100% cotton", "percent"),
    ("2023 collection", "year"),
    ("£45 new", "price"),
    ("worn twice", ""),
    ("with tags", ""),
    ("machine washable", ""),
]


def _shoe_size(rng: random.Random) -> str:
    return rng.choice(
        [
            f"UK {rng.randint(3, 12)}",
            f"UK {rng.randint(3, 11)}.5",
            f"EU {rng.randint(36, 46)}",
            f"US {rng.randint(5, 12)}",
            f"size {rng.randint(4, 11)}",
        ]
    )


def make_size(rng: random.Random, i: int) -> tuple[str, str, str]:
    colour = rng.choice(SIZE_COLOURS)
    extra, extra_kind = rng.choice(SIZE_EXTRAS)
    kind = ["shoe", "letter", "waist", "kids", "number", "one size", "none", "none"][i % 8]
    if kind == "shoe":
        model, what = rng.choice(SIZE_SHOES)
        written = _shoe_size(rng)
        size = written.removeprefix("size ")  # "size 9" is answered "9"
        text = rng.choice(
            [
                f"{model} {what} {colour} {written}",
                f"{model} {what}, {written}, {colour}",
                f"{colour} {model} {written}",
            ]
        )
    elif kind == "letter":
        size = rng.choice(["XS", "S", "M", "L", "XL", "XXL", "S/M", "L/XL"])
        top = f"{rng.choice(SIZE_BRANDS)} {rng.choice(SIZE_TOPS)}"
        text = rng.choice(
            [f"{top} size {size} {colour}", f"{top} {colour} {size}, {extra}", f"{size} {colour} {top}"]
        )
    elif kind == "waist":
        w, leg = rng.choice([28, 30, 31, 32, 33, 34, 36, 38]), rng.choice([30, 32, 34])
        size = rng.choice([f"W{w} L{leg}", f"W{w}"])
        text = rng.choice(
            [
                f"Levi's 501 jeans {size} {colour}",
                f"{colour} chinos {size}, {extra}",
                f"Wrangler 2023 cords {size}",
            ]
        )
    elif kind == "kids":
        a = rng.randint(2, 12)
        size = rng.choice([f"age {a}-{a + 1}", f"{rng.choice([0, 3, 6, 9])}-{rng.choice([12, 18])} months"])
        size = (
            size
            if "months" not in size or int(size.split("-")[0]) < int(size.split("-")[1].split()[0])
            else size
        )
        text = rng.choice(
            [f"Kids' {rng.choice(SIZE_TOPS)} {size} {colour}", f"Baby sleepsuit {size}, {extra}"]
        )
    elif kind == "number":
        size = str(rng.choice([6, 8, 10, 12, 14, 16, 18, 38, 40]))
        text = rng.choice(
            [
                f"{colour} wrap dress size {size}, {extra}",
                f"{rng.choice(SIZE_BRANDS)} skirt size {size} {colour}",
            ]
        )
    elif kind == "one size":
        size = "one size"
        text = rng.choice([f"{colour} knitted scarf, one size", f"Bucket hat one size {colour}, {extra}"])
    else:
        size = "none"
        text = rng.choice(
            [
                f"{colour} tote bag, {extra}",
                f"{rng.choice(SIZE_BRANDS)} sunglasses {colour} frames",
                f"Pack of 5 {colour} hair ties",
                f"{rng.choice(SIZE_BRANDS)} {rng.choice(SIZE_TOPS)} {colour}, {extra}",
            ]
        )
    tricky = (
        any(ch.isdigit() for ch in text.replace(size, ""))
        if size != "none"
        else any(ch.isdigit() for ch in text)
    )
    return cap(text), size, f"{kind}{' +number' if tricky else ''}"


# ---------------------------------------------------------------- phones
# how people type a UK mobile (07xxx xxxxxx) into a booking form; the answer is "+44 7xxx xxxxxx"
PHONE_STYLES = (
    lambda d: f"0{d[:4]} {d[4:]}",
    lambda d: f"+44 {d[:4]} {d[4:]}",
    lambda d: f"0044 {d}",
    lambda d: f"0{d}",
    lambda d: f"+44 (0) {d[:4]} {d[4:]}",
    lambda d: f"0{d[:4]}-{d[4:7]}-{d[7:]}",
    lambda d: f"(0{d[:4]}) {d[4:]}",
    lambda d: f"+44{d}",
    lambda d: f"0{d[:4]} {d[4:7]} {d[7:]}",
    lambda d: f"0{d[:1]} {d[1:4]} {d[4:7]} {d[7:]}",  # only in the test: spaced in threes from the 7
    lambda d: f"+44 (0){d}",  # only in the test
)
PHONE_FRAMES = [
    "call me on {p} after 5",
    "mobile: {p}",
    "ring {p} or email me",
    "{p}",
    "my number is {p}, thanks",
    "Pls text {p} to confirm",
    "best on {p} weekday mornings",
]
# numbers beside the phone that are not it: the hard part, only in the test
PHONE_DISTRACTORS = [
    "booking ref 448812, call me on {p}",
    "can do 17:30 on 12/03, mobile {p}",
    "Flat 12, 40 Mill Road - {p}",
    "home 01632 960{n3}, mobile {p}",
    "{p} (not 01632 960{n3}, that's work)",
    "Back pain since 2019, text {p}",
    "2 sessions please, {p}",
]
PHONE_NONE = [
    "no phone, email only please",
    "I'll call you back",
    "will ring the clinic tomorrow",
    "landline only: 01632 960{n3}",
    "booking ref 448812, no mobile",
    "prefer email - sam.k@example.com",
    "can do 17:30 on 12/03",
]


def make_phone(rng: random.Random, i: int) -> tuple[str, str, str]:
    """A booking form's phone field as a patient typed it, and the mobile as +44 7xxx xxxxxx (or none)."""
    n3 = f"{rng.randint(0, 999):03d}"
    if i % 6 == 5:
        return rng.choice(PHONE_NONE).format(n3=n3), "none", "none"
    d = "7" + "".join(str(rng.randint(0, 9)) for _ in range(9))
    style = rng.randrange(len(PHONE_STYLES))
    p = PHONE_STYLES[style](d)
    tricky = i % 3 == 1
    frame = rng.choice(PHONE_DISTRACTORS if tricky else PHONE_FRAMES)
    kind = ("other numbers" if tricky else "plain") + (" +new style" if style >= 9 else "")
    return frame.format(p=p, n3=n3), f"+44 {d[:4]} {d[4:]}", kind


# ---------------------------------------------------------------- allergens
# a café's menu description → its allergens among seven, in a fixed order, or "none"
ALLERGEN_ORDER = ("gluten", "dairy", "egg", "nuts", "fish", "soy", "sesame")
G, D, E, N, F, SO, SE = ALLERGEN_ORDER
# what a dish is served on or in (kind → [(words, allergens)])
ALLERGEN_CARRIERS = {
    "toast": [("toasted sourdough", {G}), ("toasted rye bread", {G}), ("toasted brioche", {G, D, E})],
    "sandwich": [("a ciabatta roll", {G}), ("a bagel", {G}), ("focaccia", {G}), ("granary bread", {G})],
    "salad": [("mixed leaves", set()), ("rocket", set()), ("baby spinach", set())],
    "bowl": [
        ("brown rice", set()),
        ("quinoa", set()),
        ("egg noodles", {G, E}),
        ("rice noodles", set()),
        ("couscous", {G}),
    ],
    "wrap": [("a flour tortilla", {G}), ("a corn tortilla", set())],
}
# toppings whose allergen is in their name or obvious (butter, feta, a poached egg, almonds, tuna, tofu)
ALLERGEN_PLAIN = [
    ("feta", {D}),
    ("cheddar", {D}),
    ("mozzarella", {D}),
    ("cream cheese", {D}),
    ("Greek yoghurt", {D}),
    ("a poached egg", {E}),
    ("a fried egg", {E}),
    ("boiled egg", {E}),
    ("toasted almonds", {N}),
    ("walnuts", {N}),
    ("cashews", {N}),
    ("smoked salmon", {F}),
    ("tuna", {F}),
    ("smoked mackerel", {F}),
    ("tofu", {SO}),
    ("edamame beans", {SO}),
    ("sesame seeds", {SE}),
    ("croutons", {G}),
]
# toppings whose allergens take knowing what they are made of (pesto: pine nuts and parmesan)
ALLERGEN_KNOWLEDGE = [
    ("pesto", {N, D}),
    ("hummus", {SE}),
    ("tahini dressing", {SE}),
    ("mayonnaise", {E}),
    ("garlic aioli", {E}),
    ("hollandaise", {D, E}),
    ("soy sauce", {G, SO}),
    ("teriyaki sauce", {G, SO}),
    ("miso dressing", {SO}),
    ("halloumi", {D}),
    ("tzatziki", {D}),
    ("paneer", {D}),
    ("Caesar dressing", {D, E, F}),
    ("fish sauce", {F}),
    ("tempeh", {SO}),
]
ALLERGEN_NONE = [
    "avocado",
    "cherry tomatoes",
    "roasted peppers",
    "chicken",
    "bacon",
    "mushrooms",
    "red onion",
    "cucumber",
    "sweetcorn",
    "black beans",
    "chickpeas",
    "sweet potato",
    "beetroot",
    "olives",
    "chilli",
    "ham",
    "pulled pork",
    "spring onions",
    "lemon dressing",
    "pickled carrots",
]
# only in the test: a "free-from" item, whose usual allergen is not there (tamari is soy sauce without wheat)
ALLERGEN_FREE_FROM = [
    ("gluten-free bread", set(), "carrier"),
    ("egg-free mayo", set(), "topping"),
    ("coconut yoghurt", set(), "topping"),
    ("tamari", {SO}, "topping"),
    ("dairy-free pesto", {N}, "topping"),
]
ALLERGEN_DRINKS = ["Latte", "Flat white", "Cappuccino", "Hot chocolate", "Chai latte", "Iced latte", "Mocha"]
ALLERGEN_MILKS = [
    ("whole milk", {D}),
    ("semi-skimmed milk", {D}),
    ("almond milk", {N}),
    ("soya milk", {SO}),
    ("coconut milk", set()),
]
ALLERGEN_TITLES = ["House", "Garden", "Sunrise", "Harbour", "Market", "Green", "Spring", "Forager's"]


def allergen_label(found: set[str]) -> str:
    return ", ".join(a for a in ALLERGEN_ORDER if a in found) or "none"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def make_allergen(rng: random.Random, i: int) -> tuple[str, str, str]:
    """A menu item as a café describes it, and its allergens in the fixed order (or none)."""
    cat = "none" if i % 6 == 5 else "free-from" if i % 6 == 4 else "knowledge" if i % 3 == 1 else "plain"
    if i % 10 == 3 and cat in ("plain", "none"):  # a drink: the milk decides
        milks = [m for m in ALLERGEN_MILKS if (not m[1]) == (cat == "none")]
        milk, found = rng.choice(milks)
        return f"{rng.choice(ALLERGEN_DRINKS)} with {milk}", allergen_label(found), cat
    kind = rng.choice(list(ALLERGEN_CARRIERS))
    carriers = ALLERGEN_CARRIERS[kind]
    if cat == "none":
        carriers = [c for c in carriers if not c[1]] or ALLERGEN_CARRIERS["salad"]
        if not [c for c in ALLERGEN_CARRIERS[kind] if not c[1]]:
            kind = "salad"
    carrier, found = rng.choice(carriers)
    found = set(found)
    toppings = rng.sample(ALLERGEN_NONE, rng.randint(1, 2))
    if cat in ("plain", "knowledge"):
        pool = ALLERGEN_KNOWLEDGE if cat == "knowledge" else ALLERGEN_PLAIN
        word, allergens = rng.choice(pool)
        toppings.insert(rng.randrange(len(toppings) + 1), word)
        found |= allergens
        if rng.random() < 0.4:  # a second allergen-bearing topping, plainly named
            word, allergens = rng.choice([t for t in ALLERGEN_PLAIN if not t[1] & found])
            toppings.append(word)
            found |= allergens
    elif cat == "free-from":
        word, allergens, where = rng.choice(ALLERGEN_FREE_FROM)
        if where == "carrier":
            kind, carrier, found = "toast", word, set(allergens)
        else:
            toppings.insert(rng.randrange(len(toppings) + 1), word)
            found |= allergens
    style = rng.randrange(3)
    if style == 0:
        text = f"{cap(carrier.removeprefix('a '))} with {_and(toppings)}"
    elif style == 1:
        text = (
            f"{cap(_and(toppings))} on {carrier}" if kind != "wrap" else f"{cap(_and(toppings))} in {carrier}"
        )
    else:
        text = f"{rng.choice(ALLERGEN_TITLES)} {kind}: {', '.join([carrier.removeprefix('a ')] + toppings)}"
    return text, allergen_label(found), cat


# ---------------------------------------------------------------- driver
# ---------------------------------------------------------------- languages
# a hotel guest's message → the language it is written in (seven); {room}, {time}, {name}, {place} are filled in
LANGUAGE_SENTENCES = {
    "english": [
        "The shower in room {room} is leaking onto the floor.",
        "Could someone bring an iron to room {room}?",
        "We would like a taxi to the airport at {time} tomorrow.",
        "My friend {name} will pick up our key, is that all right?",
        "Is breakfast included if we booked through {place} Travel?",
        "The people next door were very loud last night.",
    ],
    "french": [
        "La douche de la chambre {room} fuit sur le sol.",
        "Pourriez-vous apporter un fer à repasser à la chambre {room} ?",
        "Nous voudrions un taxi pour l'aéroport demain à {time}.",
        "Mon amie {name} va récupérer notre clé, c'est possible ?",
        "Le petit-déjeuner est-il compris si nous avons réservé par {place} Voyages ?",
        "Les voisins ont fait beaucoup de bruit cette nuit.",
    ],
    "german": [
        "Die Dusche in Zimmer {room} tropft auf den Boden.",
        "Könnte jemand ein Bügeleisen auf Zimmer {room} bringen?",
        "Wir hätten gern morgen um {time} ein Taxi zum Flughafen.",
        "Meine Freundin {name} holt unseren Schlüssel ab, geht das?",
        "Ist das Frühstück inklusive, wenn wir über {place} Reisen gebucht haben?",
        "Die Nachbarn waren letzte Nacht sehr laut.",
    ],
    "spanish": [
        "La ducha de la habitación {room} gotea en el suelo.",
        "¿Alguien podría traer una plancha a la habitación {room}?",
        "Queremos un taxi al aeropuerto mañana a las {time}.",
        "Mi amiga {name} va a recoger nuestra llave, ¿está bien?",
        "¿El desayuno está incluido si reservamos con {place} Viajes?",
        "Los vecinos hicieron mucho ruido anoche.",
    ],
    "italian": [
        "La doccia della camera {room} perde acqua sul pavimento.",
        "Qualcuno potrebbe portare un ferro da stiro in camera {room}?",
        "Vorremmo un taxi per l'aeroporto domani alle {time}.",
        "La mia amica {name} passerà a prendere la chiave, va bene?",
        "La colazione è inclusa se abbiamo prenotato con {place} Viaggi?",
        "I vicini hanno fatto molto rumore stanotte.",
    ],
    "portuguese": [
        "O chuveiro do quarto {room} está a pingar no chão.",
        "Alguém pode trazer um ferro de engomar ao quarto {room}?",
        "Queríamos um táxi para o aeroporto amanhã às {time}.",
        "A minha amiga {name} vai buscar a nossa chave, pode ser?",
        "O pequeno-almoço está incluído se reservámos pela {place} Viagens?",
        "Os vizinhos fizeram muito barulho esta noite.",
    ],
    "dutch": [
        "De douche in kamer {room} lekt op de vloer.",
        "Kan iemand een strijkijzer naar kamer {room} brengen?",
        "We willen morgen om {time} een taxi naar het vliegveld.",
        "Mijn vriendin {name} haalt onze sleutel op, is dat goed?",
        "Is het ontbijt inbegrepen als we via {place} Reizen hebben geboekt?",
        "De buren waren vannacht erg luidruchtig.",
    ],
}
# messages with English words the guests borrow (the system prompt says to judge by the message's own words)
LANGUAGE_BORROWED = {
    "english": [
        "The Wi-Fi password on the card in room {room} doesn't work.",
        "Can we do a late check-out, around {time}?",
    ],
    "french": [
        "Le Wi-Fi ne marche pas dans la chambre {room}.",
        "Est-ce qu'on peut faire le check-out à {time} ?",
    ],
    "german": [
        "Das WLAN-Passwort für den Wi-Fi funktioniert nicht.",
        "Können wir den Late Check-out bis {time} haben?",
    ],
    "spanish": ["El Wi-Fi no funciona en la habitación {room}.", "¿Podemos hacer el check-out a las {time}?"],
    "italian": ["Il room service è ancora aperto a quest'ora?", "Possiamo fare il check-out alle {time}?"],
    "portuguese": ["O Wi-Fi não funciona no quarto {room}.", "Podemos fazer o check-out às {time}?"],
    "dutch": ["De wifi werkt niet op kamer {room}.", "Kunnen we de late check-out tot {time} krijgen?"],
}
LANGUAGE_SHORT = {
    "english": ["Thanks so much!", "Room {room}, no hot water.", "See you tomorrow"],
    "french": ["Merci beaucoup !", "Chambre {room}, pas d'eau chaude.", "À demain"],
    "german": ["Vielen Dank!", "Zimmer {room}, kein warmes Wasser.", "Bis morgen"],
    "spanish": ["¡Muchas gracias!", "Habitación {room}, sin agua caliente.", "Hasta mañana"],
    "italian": ["Grazie mille!", "Camera {room}, niente acqua calda.", "A domani"],
    "portuguese": ["Muito obrigado!", "Quarto {room}, sem água quente.", "Até amanhã"],
    "dutch": ["Dank je wel!", "Kamer {room}, geen warm water.", "Tot morgen"],
}
LANGUAGE_NAMES = ["Sophie", "Chloé", "Emma", "Giulia", "Inês", "Lotte", "Hannah", "Carmen", "Anke", "Maria"]
LANGUAGE_PLACES = ["Paris", "Berlin", "Madrid", "Roma", "Lisboa", "Amsterdam", "London"]


def make_language(rng: random.Random, i: int) -> tuple[str, str, str]:
    """A hotel guest's message in one of seven languages, and that language."""
    lang = list(LANGUAGE_SENTENCES)[i % len(LANGUAGE_SENTENCES)]
    cat = ("plain", "plain", "short", "borrowed", "names")[(i // len(LANGUAGE_SENTENCES)) % 5]
    pool = {"short": LANGUAGE_SHORT, "borrowed": LANGUAGE_BORROWED}.get(cat, LANGUAGE_SENTENCES)[lang]
    if cat == "names":
        pool = [t for t in LANGUAGE_SENTENCES[lang] if "{name}" in t or "{place}" in t]
    text = rng.choice(pool).format(
        room=rng.randint(101, 640),
        time=f"{rng.randint(5, 11)}:{rng.choice(['00', '15', '30', '45'])}",
        name=rng.choice(LANGUAGE_NAMES),
        place=rng.choice(LANGUAGE_PLACES),
    )
    return text, lang, cat


# ---------------------------------------------------------------- groomer (JSON: dog, service, day or null)
GROOMER_DOGS = [
    *(
        "Benji",
        "Dexter",
        "Peanut",
        "Fudge",
        "Rex",
        "Tilly",
        "Bruno",
        "Mabel",
        "Otis",
        "Hazel",
        "Louie",
        "Millie",
    ),
    *(
        "Jasper",
        "Nellie",
        "Rolo",
        "Biscuit",
        "Skye",
        "Bear",
        "Dotty",
        "Frank",
        "Cleo",
        "Monty",
        "Pip",
        "Juno",
    ),
]
# the service as customers say it → the salon's name for it
GROOMER_SERVICES = {
    "bath": ["a bath", "a wash", "a bath and brush", "a quick bath", "a shampoo and blow dry"],
    "full groom": [
        "a full groom",
        "the full works",
        "a full groom and cut",
        "his usual groom",
        "a tidy up and cut",
    ],
    "nail trim": ["a nail trim", "her nails done", "a nail clip", "his claws clipped", "nails cut"],
    "de-shed": ["a deshed", "a de-shedding treatment", "the undercoat brushed out", "a de-shed"],
    "puppy trim": ["a puppy trim", "her first groom", "a first puppy cut", "a puppy tidy"],
}
GROOMER_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
GROOMER_TEMPLATES = [
    ("Hi, can {dog} come in for {service} on {day}?", True),
    ("{dog} needs {service} - is {day} ok?", True),
    ("hiya, any chance of {service} for {dog} {dayl}?", True),
    ("Could I book {dog} in for {service}? {day} would be best", True),
    ("{day} please for {dog}, {service} x", True),
    ("Hello! {dog} is due {service}. Do you have space {day} morning?", True),
    ("Can {dog} have {service} please, whenever suits", False),
    ("{dog} needs {service}, any day is fine", False),
    ("Hi it's {owner}, could you fit {dog} in for {service} sometime next week?", False),
    ("Hi it's {owner}, {dog} needs {service} on {day} if you can", True),
]
GROOMER_OWNERS = ["Sue", "Karen", "Dave", "Priya", "Tom", "Aisha", "Gemma", "Raj"]


def make_groomer(rng: random.Random, i: int) -> tuple[str, str, str]:
    """A customer's booking text and {dog, service, day} (null when no day is said)."""
    template, has_day = GROOMER_TEMPLATES[i % len(GROOMER_TEMPLATES)]
    service = list(GROOMER_SERVICES)[(i // len(GROOMER_TEMPLATES)) % len(GROOMER_SERVICES)]
    said = rng.choice(GROOMER_SERVICES[service])
    dog, day = rng.choice(GROOMER_DOGS), rng.choice(GROOMER_DAYS)
    text = template.format(dog=dog, service=said, day=day, dayl=day.lower(), owner=rng.choice(GROOMER_OWNERS))
    answer = {"dog": dog, "service": service, "day": day if has_day else None}
    cat = "no day" if not has_day else ("plain" if said == f"a {service}" else "said otherwise")
    return text, json.dumps(answer), cat


# ---------------------------------------------------------------- repairs (two closed JSON fields, one a judgement)
# trade → (urgent symptoms, not-urgent symptoms); the trade is never named in them
REPAIR_SYMPTOMS = {
    "plumbing": (
        [
            "a pipe has burst under the sink and water is everywhere",
            "the toilet is overflowing and won't stop",
            "there's no water coming out of any tap",
            "water is leaking through the light fitting in the bathroom",
        ],
        [
            "the shower drains really slowly",
            "the bathroom tap drips at night",
            "the toilet seat is loose",
            "there's a bit of limescale round the bath taps",
        ],
    ),
    "electrical": (
        [
            "the kitchen sockets sparked and now half the flat has no power",
            "there's a burning smell from behind the light switch",
            "all the power's gone off and the neighbours have theirs",
        ],
        [
            "a socket cover in the hall is cracked",
            "the bedroom light buzzes a little",
            "the doorbell has stopped ringing",
        ],
    ),
    "heating": (
        [
            "the boiler's dead - no heating and no hot water, and it's freezing",
            "the boiler is leaking and the pressure has dropped to zero, no heat",
            "we've had no hot water for two days",
        ],
        [
            "one radiator makes a knocking noise when it comes on",
            "the towel rail in the bathroom only gets lukewarm",
            "the heating comes on half an hour later than we set it",
        ],
    ),
    "appliance": (
        [
            "the fridge freezer has died and all the food is defrosting",
            "the hob won't turn off and it's still hot",
            "the washing machine door won't open and it's full of water",
        ],
        [
            "the oven light has gone",
            "the extractor fan over the cooker is noisy",
            "the dishwasher takes ages to finish",
        ],
    ),
    "locks": (
        [
            "I'm locked out - the key just spins in the lock",
            "the front door won't lock at all and we're going away tonight",
            "the lock on the main door is broken and anyone can walk in",
        ],
        [
            "the window lock in the lounge is a bit wobbly",
            "the key for the shed is hard to turn",
            "the letterbox flap on the front door sticks",
        ],
    ),
}
REPAIR_TEMPLATES = [
    "Hi, {s}. Can someone come and look?",
    "Flat {n}: {s}",
    "hello sorry to bother you but {s}",
    "{S}, please send someone",
    "Hi it's {name} at number {n} - {s}",
    "Just to let you know {s}. Thanks",
    "URGENT?? {s}",
    "Morning! {S}. When could someone come?",
]
REPAIR_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Ewa", "Femi", "Grace", "Hugo"]


def make_repair(rng: random.Random, i: int) -> tuple[str, str, str]:
    """A tenant's repair request and {trade, urgent}; the trade is said by its symptom only, and a template's
    tone (URGENT??, Just to let you know) does not decide urgency."""
    trade = list(REPAIR_SYMPTOMS)[i % len(REPAIR_SYMPTOMS)]
    urgent = (i // len(REPAIR_SYMPTOMS)) % 2 == 0
    symptom = rng.choice(REPAIR_SYMPTOMS[trade][0 if urgent else 1])
    template = rng.choice(REPAIR_TEMPLATES)
    text = template.format(
        s=symptom, S=symptom[0].upper() + symptom[1:], n=rng.randint(1, 40), name=rng.choice(REPAIR_NAMES)
    )
    answer = {"trade": trade, "urgent": urgent}
    return text, json.dumps(answer), "urgent" if urgent else "not urgent"


# ---------------------------------------------------------------- parcels (one field copied, one inferred)
# issue → what happened, in the customer's words; the issue itself is never named
PARCEL_EVENTS = {
    "late": [
        "it was due on Monday and still hasn't come",
        "the website promised delivery by the 3rd and it's the 9th",
        "it's been sitting at 'preparing to ship' for ten days",
        "I paid for next day delivery a week ago and I'm still waiting",
        "the birthday was yesterday and the present never turned up in time",
    ],
    "damaged": [
        "the box was soaked through and the mug inside is in pieces",
        "the lamp arrived with the shade crushed flat",
        "two of the six glasses were smashed when I opened it",
        "the cushion came with a big rip down one side",
        "the chocolates had melted into one lump",
    ],
    "wrong_item": [
        "I ordered the grey jumper and a yellow one came",
        "the box had a phone case in it but I ordered a laptop sleeve",
        "you sent a small and the order says large",
        "there were only forks in the cutlery set, no knives or spoons at all, and the label is for someone else",
        "I got a cookbook I never ordered instead of my planner",
    ],
    "lost": [
        "the tracking says delivered but nothing came",
        "the courier marked it as left in a safe place and there's nothing anywhere",
        "it says signed for by 'K' and nobody here is called K",
        "the app shows it delivered to a different town",
        "the driver's photo shows a front door that isn't ours and we never got it",
    ],
}
PARCEL_TEMPLATES = [
    "Hi, order {o}: {e}.",
    "{E} (order number {o})",
    "hello, {e}. my order is {o}",
    "Ref {o} - {e}",
    "{E}. Order {o}, thanks",
    "Hi there, {e}",
    "{E}!!",
    "Good morning, about my order: {e}",
]


def make_parcel(rng: random.Random, i: int) -> tuple[str, str, str]:
    """A delivery complaint and {order, issue}: the order number copied as written (sometimes lower case, after
    '#'), null when the message gives none; the issue said by what happened only."""
    issue = list(PARCEL_EVENTS)[i % len(PARCEL_EVENTS)]
    event = rng.choice(PARCEL_EVENTS[issue])
    template = rng.choice(PARCEL_TEMPLATES)
    number = f"BK{rng.randint(4000, 6999)}"
    if rng.random() < 0.2:
        number = number.lower()
    if "{o}" in template and rng.random() < 0.3:
        template = template.replace("{o}", "#{o}")
    order = number if "{o}" in template else None
    text = template.format(e=event, E=event[0].upper() + event[1:], o=number)
    answer = {"order": order, "issue": issue}
    return text, json.dumps(answer), issue + (" (no number)" if order is None else "")


def build(name: str) -> list[dict]:
    rng = random.Random(f"{SEED}-{name}")
    n = SIZES[name]
    if name == "orders":
        rows = unique_rows(name, n, make_order, rng)
    elif name == "routing":
        rows = unique_rows(name, n, make_routing, rng)
    elif name == "rewrite":
        _REWRITE_ORDER[:] = rng.sample(range(len(REWRITE_COMBOS)), len(REWRITE_COMBOS))
        rows = unique_rows(name, n, make_rewrite, rng)
    elif name == "faq":
        check_faq_answers(HERE / "faq" / "documents")
        _FAQ_PLAN[:] = _faq_plan(rng)
        rows = unique_rows(name, n, make_faq, rng)
    elif name == "expenses":
        rows = unique_rows(name, n, make_expense, rng)
    elif name == "appointments":
        rows = unique_rows(name, n, make_appointment, rng)
    elif name == "thermostat":
        rows = unique_rows(name, n, make_thermostat, rng)
    elif name == "slugs":
        rows = unique_rows(name, n, make_slug, rng)
    elif name == "redact":
        rows = unique_rows(name, n, make_redact, rng)
    elif name == "sizes":
        rows = unique_rows(name, n, make_size, rng)
    elif name == "phones":
        rows = unique_rows(name, n, make_phone, rng)
    elif name == "allergens":
        rows = unique_rows(name, n, make_allergen, rng)
    elif name == "languages":
        rows = unique_rows(name, n, make_language, rng)
    elif name == "groomer":
        rows = unique_rows(name, n, make_groomer, rng)
    elif name == "repairs":
        rows = unique_rows(name, n, make_repair, rng)
    elif name == "parcels":
        rows = unique_rows(name, n, make_parcel, rng)
    else:
        raise SystemExit(f"unknown task {name!r}; known: {', '.join(TASKS)}")
    sys_prompt = system_prompt(load_task(name))
    return [
        {
            "messages": [
                {"role": "system", "content": sys_prompt},
                {"role": "user", "content": text},
                {"role": "assistant", "content": ref},
            ],
            "metadata": {"id": f"{name}-{k:03d}", "category": cat},
        }
        for k, (text, ref, cat) in enumerate(rows, 1)
    ]


def write(name: str, out_root: Path) -> Path:
    path = out_root / name / "test.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in build(name))
    path.write_text(text, encoding="utf-8")
    if name == "slugs":  # the catalogue's titles without slugs: the task's inputs file
        (out_root / name / "inputs.txt").write_text("\n".join(slug_inputs()) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="root folder (default: bench/tasks)")
    ap.add_argument("--tasks", default=",".join(TASKS), help="comma list (default: all)")
    args = ap.parse_args(argv)
    for name in [t.strip() for t in args.tasks.split(",") if t.strip()]:
        path = write(name, args.out)
        print(f"{name}: {SIZES[name]} rows → {path}")


if __name__ == "__main__":
    main()
