"""One lenient parser per kind of interview answer, shared by the TUI, the CLI and the rubric.

People answer in their own words: `$5`, `5 USD`, `five dollars`, `maybe 200 a day`, `~70%`, `no idea`,
`a few hundred`. Each parser returns the value it reads, or raises `UserError` whose message says what
could not be read and whose `fix` gives an example to answer with. Pure functions, no heavy imports.
"""

from __future__ import annotations

import re
from typing import Any

from tools.errors import UserError

# --------------------------------------------------------------------------- vocabulary
UNKNOWN = {
    "?",
    "??",
    "unknown",
    "no idea",
    "not sure",
    "unsure",
    "dont know",
    "don't know",
    "do not know",
    "i dont know",
    "i don't know",
    "i do not know",
    "idk",
    "dunno",
    "no clue",
    "not known",
    "n/a",
    "na",
    "haven't tried",
    "havent tried",
    "not tried",
    "never tried",
    "hard to say",
    "no idea yet",
}
_FILLER = (
    r"\b(?:maybe|perhaps|about|around|approx(?:imately)?|roughly|circa|ca\.?|some|like|probably|"
    r"nearly|almost|up to|at most|at least|under|over|less than|more than|or so|ish|give or take|"
    r"i think|i guess|i'd say|we have|i have|we get|we've got|i've got|got|around about|only|just)\b"
)
_UNITS = {
    "zero": 0,
    "nil": 0,
    "one": 1,
    "a": 1,
    "an": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_VAGUE = {
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "couple": 2,
    "a few": 3,
    "few": 3,
    "a handful of": 5,
    "a handful": 5,
    "handful": 5,
    "several": 5,
    "a dozen": 12,
    "dozen": 12,
    "dozens of": 30,
    "dozens": 30,
    "hundreds of": 300,
    "hundreds": 300,
    "thousands of": 3000,
    "thousands": 3000,
}
_SCALES = {"hundred": 100, "thousand": 1000, "k": 1000, "grand": 1000, "million": 1_000_000, "m": 1_000_000}
_PER = (  # requests per <period> → per day
    (r"\b(?:an?|per|each|every|/)\s*hour\b|\bhourly\b|/\s*h\b", 24.0),
    (r"\b(?:a|per|each|every|/)\s*week\b|\bweekly\b|/\s*w(?:k)?\b", 1 / 7),
    (r"\b(?:a|per|each|every|/)\s*month\b|\bmonthly\b|/\s*mo\b", 1 / 30),
    (r"\b(?:a|per|each|every|/)\s*year\b|\byearly\b|\bannually\b|/\s*y(?:r)?\b", 1 / 365),
)
_MONEY_WORDS = (
    r"\b(?:us\s*dollars?|dollars?|bucks?|usd|eur|euros?|gbp|pounds?|quid|chf|cad|aud|dollar)\b|[$€£¥]"
)
NO_LIMIT = {"", "none", "no limit", "unlimited", "no budget", "nolimit", "no cap", "whatever", "any", "skip"}


def _norm(raw: Any) -> str:
    s = str(raw if raw is not None else "").strip().lower()
    s = s.replace("’", "'").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", s)


def is_unknown(raw: Any) -> bool:
    s = _norm(raw).strip(" .!")
    return s in UNKNOWN or s.startswith(("no idea", "not sure", "i don't know", "i dont know", "dunno"))


def _number_words(words: list[str]) -> float | None:
    """`two hundred fifty`, `a few hundred`, `twenty five` → a number; None when the words are no number."""
    total, current, seen = 0.0, 0.0, False
    for w in words:
        if w in ("and", "-"):
            continue
        if w in _UNITS:
            current += _UNITS[w]
            seen = True
        elif w in _SCALES and w not in ("k", "m"):
            current = (current or 1) * _SCALES[w]
            if _SCALES[w] >= 1000:
                total, current = total + current, 0.0
            seen = True
        else:
            return None
    return total + current if seen else None


def read_number(raw: Any, *, pick: str = "mid") -> float | None:
    """The number in an answer: `1,200`, `2k`, `1.5 thousand`, `five`, `a few hundred`, `100-200`
    (`pick` = mid | max for a range). None when there is none."""
    s = _norm(raw)
    s = re.sub(_MONEY_WORDS, " ", s)
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)  # 1,200 → 1200
    s = re.sub(r"(?<=\d)_(?=\d)", "", s)
    s = s.replace("~", " ").replace("≈", " ").replace("+", " ")
    s = re.sub(_FILLER, " ", s)
    # digits, optionally with a scale word (2k, 1.5 thousand, 3 hundred)
    scale = r"(?:\s*(k|m|hundred|thousand|grand|million)\b)?"
    nums = [
        float(m.group(1)) * (_SCALES[m.group(2)] if m.group(2) else 1)
        for m in re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)" + scale, s)
    ]
    if nums:
        if len(nums) >= 2 and re.search(r"\d\s*(?:-|–|to|or)\s*[\d.]", s):
            lo, hi = nums[0], nums[1]
            return max(lo, hi) if pick == "max" else (lo + hi) / 2
        if len(nums) >= 2 and re.search(r"\b(?:plus|and)\b.*\d+\s+(?:more|others?|extra)\b", s):
            # walk 20: "8 I can type in, plus a spreadsheet with 43 more" was read as 8
            return sum(nums)
        return nums[0]
    # vague quantities, alone or scaled ("a few hundred", "hundreds", "a couple of thousand")
    for phrase, n in sorted(_VAGUE.items(), key=lambda kv: -len(kv[0])):
        m = re.search(rf"\b{re.escape(phrase)}\b(?:\s+(hundred|thousand|million)s?\b)?", s)
        if m:
            return float(n * (_SCALES[m.group(1)] if m.group(1) else 1))
    words = re.findall(r"[a-z]+|-", s)
    for i in range(1, len(words) - 1):
        # a range in words, "one or two a day" (walk 29 was read as 1)
        if words[i] in ("or", "to", "-") and None not in (
            lo := _number_words(words[i - 1 : i]),
            hi := _number_words(words[i + 1 : i + 2]),
        ):
            assert lo is not None and hi is not None
            scale = _SCALES.get(words[i + 2], 1) if i + 2 < len(words) else 1  # "two to three hundred"
            return (max(lo, hi) if pick == "max" else (lo + hi) / 2) * scale
    # the longest run of number words
    best = None
    for i in range(len(words)):
        for j in range(len(words), i, -1):
            chunk = words[i:j]
            if chunk[0] in ("a", "an") and len(chunk) == 1:
                continue
            v = _number_words(chunk)
            if v is not None:
                best = v if best is None or j - i > 1 else best
                break
        if best is not None:
            break
    return best


# --------------------------------------------------------------------------- parsers
def parse_money(raw: Any, key: str = "budget") -> float | None:
    """USD; None = no limit. `$5`, `5 USD`, `five dollars`, `5-10 bucks` (the upper end), `no limit`."""
    if raw is None:
        return None
    if isinstance(raw, (bool, list, tuple, dict)):
        raise UserError(f"{raw!r} is not an amount of money", fix="type a number of dollars like 5")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        s = _norm(raw).strip(" .!")
        if s in NO_LIMIT:
            return None
        if s in ("free", "nothing", "zero", "0", "$0", "nil", "no money"):
            return 0.0
        if is_unknown(s):
            raise UserError(
                "no problem — the budget is only a cap: tunewise stops before spending more than it",
                fix="type a number of dollars like 5 (the embedded model costs nothing), "
                "or leave it blank for no limit",
            )
        value = read_number(s, pick="max")
        if value is None and re.search(r"\b(free|nothing|no money|zero|as little as possible)\b", s):
            return 0.0  # "not much, free if possible" (the walk) — $0: everything runs on this computer
        if value is None:
            raise UserError(
                f"I could not read an amount of money in {str(raw)!r}",
                fix="type a number of dollars like 5, '$20' or '10 USD', or leave it blank for no limit",
            )
    if value < 0:
        raise UserError(f"a budget cannot be negative ({raw!r})", fix="type e.g. 5, or leave it blank")
    return round(value, 2)


_SMALL = {w: i for i, w in enumerate("one two three four five six seven eight nine ten".split(), 1)}


def parse_rate(raw: Any, key: str = "prompted_success") -> float | None:
    """A share 0..1; None = unknown (measured by the probe). `~70%`, `70`, `0.7`, `7/10`, `about half`."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, (bool, list, tuple, dict)):
        raise UserError(f"{raw!r} is not a share", fix="answer like 70% or 0.7, or 'unknown'")
    if isinstance(raw, (int, float)):
        x = float(raw)
    else:
        s = _norm(raw).strip(" .!")
        if is_unknown(s):
            return None
        # "9 times out of 10", "nine in ten": walk 18's "maybe 9 times out of 10" was read as 9%
        s = re.sub(
            r"\b(one|two|three|four|five|six|seven|eight|nine|ten)\b", lambda w: str(_SMALL[w.group(1)]), s
        )
        m = re.search(r"(\d+(?:\.\d+)?)\s*(?:times?\s+)?(?:/|out of|in|of)\s*(\d+(?:\.\d+)?)", s)
        words = {
            "never": 0.0,
            "not at all": 0.0,
            "always": 1.0,
            "every time": 1.0,
            "almost always": 0.9,
            "nearly always": 0.9,
            "most of the time": 0.75,
            "usually": 0.75,
            "mostly": 0.75,
            "often": 0.6,
            "half": 0.5,
            "sometimes": 0.5,
            "a third": 1 / 3,
            "a quarter": 0.25,
            "three quarters": 0.75,
            "rarely": 0.2,
            "seldom": 0.2,
            "hardly ever": 0.1,
            "almost never": 0.1,
        }
        if m and float(m.group(2)) > 0:
            x = float(m.group(1)) / float(m.group(2))
        else:
            num = re.search(r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)\s*(%|percent|pct)?", s)
            if num:
                x = float(num.group(1)) / (100 if num.group(2) else 1)
            else:
                hit = next((v for w, v in sorted(words.items(), key=lambda kv: -len(kv[0])) if w in s), None)
                if hit is None:
                    raise UserError(
                        f"I could not read how often from {str(raw)!r}",
                        fix="answer like 70% (7 in 10 answers right), 'about half', or 'unknown' to let "
                        "tunewise measure it",
                    )
                x = hit
    if x > 1:
        x /= 100
    if not 0 <= x <= 1:
        raise UserError(f"{raw!r} is not a share between 0% and 100%", fix="answer like 70%, or 'unknown'")
    return round(x, 4)


_MONEY = re.compile(r"[$€£¥]|\b(usd|eur|gbp|dollars?|euros?|pounds?|bucks|cents?)\b")


def parse_count(raw: Any, key: str = "examples", *, per_day: bool = False) -> int:
    """A whole number ≥ 0; 0 for `none`/`no idea`. `about 50`, `a few hundred`, `2k`, `maybe 200 a day`
    (with `per_day`, `10 an hour` → 240)."""
    if raw is None or raw == "" or raw is False:
        return 0
    if isinstance(raw, (list, tuple)):
        return len(raw)
    if isinstance(raw, (bool, dict)):
        raise UserError(f"{raw!r} is not a number", fix="answer with a whole number like 20")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        s = _norm(raw).strip(" .!")
        if is_unknown(s) or s in (
            "none",
            "no",
            "nothing",
            "not yet",
            "nope",
            "zero",
            "0",
            "not any",
            "no examples",
        ):
            return 0
        if _MONEY.search(s):
            # the walk: "$5" to "how many requests a day?" became 5 requests a day
            what = "requests a day" if per_day else "examples"
            raise UserError(
                f"{str(raw)!r} looks like an amount of money, and this asks how many {what}",
                fix="answer with a count like 200 or 'about 50 a day'"
                if per_day
                else "answer with a count like 20, 'none', or the path of a file of examples",
            )
        value = read_number(s)
        if value is None:
            what = "requests a day" if per_day else "examples"
            raise UserError(
                f"I could not read a number of {what} in {str(raw)!r}",
                fix=(
                    "answer like 200, 'about 50 a day', 'a few hundred', or 'no idea'"
                    if per_day
                    else "answer like 20, 'about 50', 'none', or the path of a file of examples"
                ),
            )
        if per_day:
            for pattern, factor in _PER:
                if re.search(pattern, s):
                    value *= factor
                    break
    if value < 0:
        raise UserError(f"{raw!r} is below zero", fix="answer with a number ≥ 0")
    return int(round(value))


YES = {
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "sure",
    "true",
    "1",
    "of course",
    "definitely",
    "correct",
    "it does",
    "ja",
    "oui",
    "si",
}
NO = {"no", "n", "nope", "nah", "false", "0", "not really", "it doesn't", "it does not", "none", "never", ""}


def parse_yes_no(raw: Any, key: str = "knowledge_needed") -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return False
    s = _norm(raw).strip(" .!")
    if s in YES or s.startswith(("yes", "yeah", "yep")):
        return True
    if s in NO or s.startswith(("no ", "no,", "nope", "not really")):
        return False
    raise UserError(
        f"please answer yes/no (got {str(raw)!r})",
        fix="yes if it needs facts only you have (your menu, prices, opening hours, documents); otherwise no",
    )


def parse_change(raw: Any, key: str = "knowledge_changes") -> str:
    """never | rarely | often, from `weekly`, `every day`, `a few times a year`, `no idea` (→ rarely)."""
    if isinstance(raw, bool):
        return "often" if raw else "never"
    s = _norm(raw if raw is not None else "never").strip(" .!")
    if s in ("never", "rarely", "often"):
        return s
    if is_unknown(s):
        return "rarely"
    if s in ("no", "false", "n"):
        return "never"
    if s in ("yes", "true", "y"):
        return "often"
    rarely = (
        r"not often|not much|hardly|seldom|rare|rarely|occasional(?:ly)?|sometimes|month|monthly|months|year|"
        r"years|yearly|annual(?:ly)?|season|seasons|seasonal(?:ly)?|once in a while|now and then"
    )
    never = (
        r"never|static|fixed|don'?t change|do not change|doesn'?t change|does not change|stays? the same|"
        r"no changes?|not at all"
    )
    often = (
        r"often|daily|day|days|weekly|week|weeks|hour|hourly|constantly|all the time|frequent(?:ly)?|"
        r"always|every morning|changes?|changing"
    )
    for value, pattern in (("rarely", rarely), ("never", never), ("often", often)):
        if re.search(rf"\b(?:{pattern})\b", s):
            return value
    raise UserError(
        f"the answer must be never, rarely or often (got {str(raw)!r})",
        fix="e.g. 'prices change every week' → often; 'the menu changes each season' → rarely",
    )


# goals: the rubric's keys, with plain words and a short example each (what the person sees)
GOAL_CHOICES: tuple[tuple[str, str], ...] = (
    ("format", "Same shape every time (e.g. valid JSON)"),
    ("style", "A set tone or voice (e.g. warm, short)"),
    ("terminology", "Your own words (e.g. your menu's names)"),
    ("latency", "Quick replies (e.g. under a second)"),
    ("cost", "Cheap to run (e.g. thousands a day)"),
    ("privacy", "Data stays with you (runs on your PC)"),
    ("accuracy", "Right facts (e.g. correct prices)"),
)
GOAL_KEYS = tuple(k for k, _ in GOAL_CHOICES)
_GOAL_WORDS = {
    "format": r"format|shape|json|structure[d]?|template|layout|schema|same way",
    "style": r"style|tone|voice|friendly|polite|brand|warm|personality|sound like",
    "terminology": r"terminology|terms?|words|vocabulary|jargon|names|naming|lingo",
    "latency": r"latency|speed|fast|faster|quick|quickly|slow|response time|instant",
    "cost": r"cost|cheap|cheaper|price of running|money|bill|expensive|budget|affordable",
    "privacy": r"privacy|private|data stays|confidential|gdpr|on-?prem|offline|local(?:ly)?|secure|security",
    "accuracy": r"accuracy|accurate|correct|right facts|facts|quality|mistakes|errors|right answers",
}


def parse_goals(raw: Any, key: str = "goals", allowed: tuple[str, ...] = GOAL_KEYS) -> list[str]:
    """Goal keys from keys, plain words (`fast and cheap`), the choices' own labels, or 1-based numbers."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        s = _norm(raw)
        if is_unknown(s) or s in ("none", "nothing", "no", "-"):
            return []
        if s in ("all", "all of them", "everything", "all of the above"):
            return list(allowed)
        items = [x for x in re.split(r",|;|/|\band\b|&|\+|\n", s) if x.strip()]
    else:
        items = [str(x) for x in raw]
    out: list[str] = []
    bad: list[str] = []
    for item in items:
        s = _norm(item).strip(" .!")
        if not s:
            continue
        found = []
        if s in allowed:
            found = [s]
        elif s.isdigit() and 1 <= int(s) <= len(GOAL_CHOICES) and GOAL_CHOICES[int(s) - 1][0] in allowed:
            found = [GOAL_CHOICES[int(s) - 1][0]]
        else:
            for label_key, label in GOAL_CHOICES:
                if s == label.lower() and label_key in allowed:
                    found = [label_key]
            if not found:
                found = [
                    g for g, pat in _GOAL_WORDS.items() if g in allowed and re.search(rf"\b(?:{pat})\b", s)
                ]
        if found:
            out += [g for g in found if g not in out]
        else:
            bad.append(item.strip())
    if bad:
        raise UserError(
            f"`{key}` has unknown value(s) {bad}: I could not match them to a goal",
            fix="use any of: " + ", ".join(allowed) + " — e.g. 'fast and cheap', or 'same shape every time'",
        )
    return out


def parse_output_format(raw: Any, key: str = "output_format") -> str:
    s = _norm(raw).strip(" .!")
    if s in ("text", "json", "label"):
        return s
    if re.search(r"\bjson\b|\bobject\b|structured|fields|dictionary|\bdict\b", s):
        return "json"
    if re.search(r"\blabels?\b|categor|\bclass(?:es)?\b|one of|tag|yes or no|yes/no", s):
        return "label"
    if re.search(r"\btext\b|free|sentence|paragraph|prose|plain|words|reply|message|answer", s):
        return "text"
    raise UserError(
        f"{str(raw)!r} is not an answer shape",
        fix="answer text, json or label (json: a JSON object; label: one of a few fixed words like "
        "'urgent, normal, low'; text: anything else)",
    )


def parse_match(raw: Any, key: str = "answer_match") -> str:
    """ "exactly" or "other words": must an answer be exactly like the person's to count as right."""
    s = _norm(raw).strip(" .!")
    if re.search(r"\bexact|\bsame\b|like mine|^1$|\bstrict", s):
        return "exactly"
    if re.search(r"other words|\bwords\b|\bsimilar|\bclose|\bparaphras|\bfine\b|^2$|\bloose", s):
        return "other words"
    raise UserError(
        f"{str(raw)!r} is not one of the choices",
        fix="answer exactly (an answer counts only when it is the same as yours) or other words (it counts "
        "when most of its words match)",
    )


def parse_labels(raw: Any, key: str = "labels") -> list[str]:
    items = raw if isinstance(raw, list) else re.split(r",|;|/|\bor\b|\n", str(raw or ""))
    labels = list(dict.fromkeys(str(x).strip() for x in items if str(x).strip()))
    if len(labels) < 2:
        raise UserError("give at least two labels", fix="comma-separated, e.g. 'urgent, normal, low'")
    return labels


# --------------------------------------------------------------------------- display
def display(key: str, value: Any) -> str:
    """An answer as the person would type it back (an earlier answer offered as the default)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if key == "prompted_success" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.0%}" if value <= 1 else f"{value:g}%"
    if key == "knowledge_needed" and isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
