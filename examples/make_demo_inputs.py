"""Regenerate examples/demo_inputs.txt: varied sentences that mention a person, a city and an age.

Only the inputs are synthetic; the training answers come from the teacher (few-shot prompted), so the
demo is a real context distillation: the tuned student learns to do zero-shot what the base model
only does with six demonstrations in its prompt.
"""

import random

NAMES = ["Maria", "Jonas", "Aisha", "Kenji", "Lucia", "Tomasz", "Priya", "Omar", "Elena", "Diego", "Sofia", "Liam",
         "Chen", "Fatima", "Noah", "Ingrid", "Mateo", "Yara", "Pavel", "Amara", "Hugo", "Leila", "Ravi", "Greta",
         "Samuel", "Nadia", "Felix", "Zoe", "Arjun", "Clara", "Tariq", "Mila", "Oscar", "Hana", "Bruno", "Ines"]
CITIES = ["Lisbon", "Berlin", "Nairobi", "Osaka", "Madrid", "Warsaw", "Mumbai", "Cairo", "Athens", "Lima", "Rome",
          "Dublin", "Shanghai", "Rabat", "Toronto", "Oslo", "Bogota", "Beirut", "Prague", "Lagos", "Lyon", "Tunis",
          "Chennai", "Vienna", "Accra", "Kyiv", "Porto", "Denver", "Hanoi", "Quito", "Dakar", "Seville"]
TEMPLATES = [
    "{name} is {age} years old and lives in {city}.",
    "My neighbour {name}, who is {age}, just moved to {city}.",
    "{name} ({age}) works as a nurse in {city}.",
    "Last year {name} turned {age} and celebrated in {city}.",
    "Meet {name}: {age} years old, born and raised in {city}.",
    "The new intern, {name}, is {age} and commutes from {city}.",
    "{name}, aged {age}, runs a bakery in {city}.",
    "In {city}, {name} teaches piano at the age of {age}.",
    "At {age}, {name} finally settled down in {city}.",
    "Our customer {name} from {city} says she is {age}.",
    "{name} from {city} will be {age} next month? No, {name} is {age} now.",
    "Registration: {name}, {age}, {city}.",
]


def main(n: int = 320, seed: int = 7) -> None:
    rng = random.Random(seed)
    seen = set()
    lines = []
    while len(lines) < n:
        s = rng.choice(TEMPLATES).format(name=rng.choice(NAMES), city=rng.choice(CITIES), age=rng.randint(18, 89))
        if s not in seen:
            seen.add(s)
            lines.append(s)
    with open("examples/demo_inputs.txt", "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
