"""A deterministic synthetic corpus of comments under an institution's posts (it + en).

About 150 characters each, mostly ordinary (questions, thanks, criticism), a few percent that
break the policy (insults, some obfuscated; spam with links; threats), some with personal data
(phone numbers, e-mails, codici fiscali, IBANs) and some assistance requests. Accents, curly
apostrophes and emoji appear as they do in real comments, because they change the cost of
normalization.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

CHANNELS = ("facebook", "instagram", "twitter", "youtube", "linkedin")

IT_OPENERS = [
    "Buongiorno,", "Salve,", "Grazie per l’informazione,", "Ottima iniziativa!", "Scusate,",
    "Finalmente", "Complimenti per il lavoro,", "Ma davvero?", "Domanda:", "Ciao a tutti,",
]  # fmt: skip
IT_BODIES = [
    "vorrei sapere quando usciranno i dati sugli infortuni sul lavoro del 2025 nella nostra regione",
    "la sicurezza nei cantieri edili dovrebbe essere la priorità di tutti, non solo dopo le tragedie",
    "il bando ISI di quest’anno è più semplice ma le scadenze sono troppo strette per le piccole imprese",
    "servirebbero più controlli nelle aziende agricole, soprattutto d’estate con il caldo",
    "le malattie professionali sono ancora poco riconosciute, specie per chi lavora al computer",
    "ho trovato molto utile il webinar sulla prevenzione, ci sarà una replica in autunno?",
    "perché il portale è così lento il lunedì mattina? non si riesce a completare l’autoliquidazione",
    "la formazione sulla sicurezza è fondamentale anche per gli stagisti e gli apprendisti",
    "i dati mostrano un calo degli incidenti mortali, ma siamo ancora lontani dall’obiettivo",
    "sarebbe utile una guida più chiara sul DURC per chi apre una partita iva da poco",
    "grazie a chi ogni giorno lavora per rendere più sicuri i luoghi di lavoro 👏",
    "non capisco perché la campagna non parli anche dei rischi per chi lavora da casa",
]  # fmt: skip
EN_OPENERS = [
    "Hello,", "Thanks for sharing,", "Great initiative!", "Quick question:", "Honestly,",
    "Well done,", "Sorry but", "Hi all,",
]  # fmt: skip
EN_BODIES = [
    "when will the 2025 figures on workplace accidents be published for each region",
    "safety on construction sites should come first, not only after a tragedy makes the news",
    "the new guidance on heat stress is useful but it came out far too late for the summer",
    "occupational diseases are still under-reported, especially among office workers",
    "the webinar on prevention was really useful, will there be a recording online?",
    "why is the portal so slow on Monday mornings? it is impossible to finish anything",
    "training on safety matters for interns and apprentices as much as for anyone else",
    "the figures show fewer fatal accidents but we are still far from the target 🙏",
]  # fmt: skip
VIOLATIONS = [
    "sei uno stronzo, vergognati", "che branco di coglioni incompetenti", "sei un idiota",
    "questa è una vera stronzata", "str0nz0 che non sei altro", "m.e.r.d.a di istituto",
    "vaffanculo a tutti voi", "you are all a bunch of idiots", "what a load of bullshit",
    "fuck this institute", "guadagna 500€ al giorno da casa, scrivimi su whatsapp",
    "clicca qui bit.ly/soldi-facili per guadagnare subito", "ti ammazzo se ti trovo",
    "follow me for free followers www.followers-gratis.example.com",
    "vendo certificati medici falsi, contattatemi in privato",
]  # fmt: skip
ASSISTANCE = [
    "la mia pratica di infortunio è ferma da tre mesi, a chi mi rivolgo?",
    "non ho ricevuto l’indennizzo per il mio infortunio, cosa devo fare?",
    "my claim has been pending for months and nobody answers, who do I contact?",
]  # fmt: skip


def _phone(rng: random.Random) -> str:
    return f"3{rng.randint(20, 49)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _email(rng: random.Random) -> str:
    name = rng.choice(["mario.rossi", "giulia.bianchi", "l.verdi", "anna.ferri"])
    return f"{name}{rng.randint(1, 99)}@example.com"


PERSONAL: list[Callable[[random.Random], str]] = [
    lambda r: f"chiamatemi al {_phone(r)} per favore",
    lambda r: f"scrivetemi a {_email(r)} grazie",
    lambda r: "il mio codice fiscale è RSSMRA85T10A562S",
    lambda r: "il mio IBAN è IT60 X054 2811 1010 0000 0123 456",
]


IT_CLOSERS = [
    "Grazie.", "Saluti.", "Buona giornata a tutti!", "Speriamo bene.", "Che ne pensate?",
    "Grazie per la risposta.", "Bravi 👍", "Mah...", "Aspetto notizie.", "Cordiali saluti, Luca",
]  # fmt: skip
EN_CLOSERS = [
    "Thanks.", "Regards.", "Have a good day!", "Any news?", "Cheers 👍", "Just saying.",
]  # fmt: skip


def _sentence(rng: random.Random, lang: str) -> str:
    openers, bodies, closers = (
        (IT_OPENERS, IT_BODIES, IT_CLOSERS) if lang == "it" else (EN_OPENERS, EN_BODIES, EN_CLOSERS)
    )
    text = f"{rng.choice(openers)} {rng.choice(bodies)}."
    if rng.random() < 0.45:
        second = rng.choice(bodies)
        text += f" {second[0].upper()}{second[1:]}."
    return f"{text} {rng.choice(closers)}"


def comment_text(rng: random.Random) -> str:
    """One comment of about 150 characters."""
    lang = "it" if rng.random() < 0.7 else "en"
    roll = rng.random()
    base = _sentence(rng, lang)
    if roll < 0.03:
        text = f"{rng.choice(VIOLATIONS)}. {base}"
    elif roll < 0.045:
        text = f"{rng.choice(ASSISTANCE)} {rng.choice(PERSONAL)(rng)}"
    elif roll < 0.06:
        text = rng.choice(ASSISTANCE) + " " + base
    else:
        text = base
    return text[:300]


def public_comment(text: str) -> dict[str, Any]:
    """``text`` as one public Facebook comment on a weekday in moderation hours, for the
    quality measurements that moderate texts one by one (no strikes before it)."""
    return {
        "id": "t",
        "channel": "facebook",
        "author": {"id": "a", "role": "public"},
        "text": text,
        "created_at": "2026-11-18T10:00:00+01:00",
    }


def comments(count: int, seed: int = 2026) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    for i in range(count):
        channel = CHANNELS[i % len(CHANNELS)]
        yield {
            "id": f"{channel[:2]}-{seed}-{i}",
            "channel": channel,
            "author": {"id": f"user{rng.randint(1, count // 4 + 1)}", "name": "Utente"},
            "text": comment_text(rng),
            "created_at": (start + timedelta(seconds=i * 3)).isoformat(),
            "post_id": f"post-{i // 500}",
            "kind": "comment",
        }


def ndjson_lines(count: int, seed: int = 2026) -> list[bytes]:
    """The corpus as encoded NDJSON lines (no newline), ready to feed a loop."""
    return [orjson.dumps(c) for c in comments(count, seed)]


def synthetic_terms(count: int, seed: int = 7) -> list[str]:
    """Pronounceable pseudo-words that no Italian or English text contains (their consonant
    clusters do not occur in either language), for lexicon-size scaling."""
    rng = random.Random(seed)
    onsets = ["kv", "zb", "xr", "dz", "gv", "tk", "pf", "bz", "vk", "zd", "qr", "jx", "wz", "hq"]
    vowels = ["a", "e", "i", "o", "u", "ya", "yo"]
    codas = ["", "", "k", "x", "q", "zh"]
    terms: set[str] = set()
    while len(terms) < count:
        syllables = rng.randint(2, 4)
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables))
        word += rng.choice(codas)
        if rng.random() < 0.1:
            word += " " + "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(2))
        terms.add(word)
    return sorted(terms)


DICTIONARIES = ("/usr/share/dict/italian", "/usr/share/dict/american-english")


def real_terms(count: int, seed: int = 11) -> list[str]:
    """Real Italian and English words (Debian's word lists) that the benchmark comments never
    use, for lexicon-size scaling with real letter and length distributions: the automaton's
    shape, not its hits, changes with them."""
    from streamproc.core._normalize import normalize  # a benchmark helper, off the hot path

    used = {w for line in ndjson_lines(5_000) for w in normalize(line.decode()).split()}
    words: set[str] = set()
    for path in DICTIONARIES:
        with open(path, encoding="utf-8") as f:
            for line in f:
                word = line.strip().lower()
                if len(word) >= 4 and word.isalpha() and normalize(word).strip() not in used:
                    words.add(word)
    ordered = sorted(words)
    return sorted(random.Random(seed).sample(ordered, min(count, len(ordered))))
