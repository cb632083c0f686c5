"""Built-in banner messages for the languages consentkit ships (English and French here, the others
in translations.py).

Every message has a default here, the core texts (title, body, accept, decline) included, so
a policy may leave ``texts`` out; a language without built-in core texts must give them.
Categories with the catalog's standard names have built-in labels and descriptions.
"""

from __future__ import annotations

from typing import Final

from . import translations

#: Texts a policy must provide for every language it lists.
REQUIRED_TEXTS: Final = ("title", "body", "accept", "decline")

#: Messages with a built-in default, and the placeholders each may use.
OPTIONAL_TEXTS: Final[dict[str, frozenset[str]]] = {
    "settings": frozenset(),
    "save": frozenset(),
    "privacy_policy": frozenset(),
    "necessary_label": frozenset(),
    "necessary_description": frozenset(),
    "always_on": frozenset(),
    "settings_link": frozenset(),
    "settings_title": frozenset(),
    "settings_intro": frozenset(),
    "current_choice": frozenset({"date"}),
    "no_choice_yet": frozenset(),
    "saved": frozenset(),
    "gpc_honored": frozenset(),
    "skip_link": frozenset(),
    "embed_blocked": frozenset({"service", "category"}),
    "embed_allow": frozenset({"category"}),
    "back": frozenset(),
    "services": frozenset(),
    "changed": frozenset({"categories"}),
}

#: Placeholders allowed in the required texts.
REQUIRED_PLACEHOLDERS: Final[dict[str, frozenset[str]]] = {
    "title": frozenset(),
    "body": frozenset({"privacy_policy"}),
    "accept": frozenset(),
    "decline": frozenset(),
}

BUILTIN: Final[dict[str, dict[str, str]]] = {
    "en": {
        "settings": "Manage choices",
        "save": "Save choices",
        "privacy_policy": "Privacy policy",
        "necessary_label": "Strictly necessary",
        "necessary_description": "Needed for the site to work and to remember your choice. Always on.",
        "always_on": "Always on",
        "settings_link": "Cookie settings",
        "settings_title": "Cookie settings",
        "settings_intro": "Choose which cookies this site may use. You can change your choice at any time.",
        "current_choice": "Your current choice was made on {date}.",
        "no_choice_yet": "You have not made a choice yet.",
        "saved": "Your choices have been saved.",
        "gpc_honored": "Opt-out request honored",
        "skip_link": "Skip to cookie consent",
        "embed_blocked": "This {service} content is blocked until you allow {category} cookies.",
        "embed_allow": "Allow {category}",
        "back": "Back to the site",
        "services": "Services",
        "changed": "Since your last choice, what is behind these has changed: {categories}.",
    },
    "fr": {
        "settings": "Gérer mes choix",
        "save": "Enregistrer mes choix",
        "privacy_policy": "Politique de confidentialité",
        "necessary_label": "Strictement nécessaires",
        "necessary_description": (
            "Indispensables au fonctionnement du site et à la mémorisation de votre choix. Toujours actifs."
        ),
        "always_on": "Toujours actifs",
        "settings_link": "Paramètres des cookies",
        "settings_title": "Paramètres des cookies",
        "settings_intro": (
            "Choisissez les cookies que ce site peut utiliser. "
            "Vous pouvez modifier votre choix à tout moment."
        ),
        "current_choice": "Votre choix actuel date du {date}.",
        "no_choice_yet": "Vous n’avez pas encore fait de choix.",
        "saved": "Vos choix ont été enregistrés.",
        "gpc_honored": "Demande d’opposition respectée",
        "skip_link": "Aller au choix des cookies",
        "embed_blocked": (
            "Ce contenu {service} est bloqué tant que vous n’autorisez pas les cookies « {category} »."
        ),
        "embed_allow": "Autoriser « {category} »",
        "back": "Retour au site",
        "services": "Services",
        "changed": "Depuis votre dernier choix, le contenu de ces catégories a changé : {categories}.",
    },
}


#: The core texts, used for a language the policy lists without giving them.
BUILTIN_CORE: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "Your privacy",
        "body": (
            "We would like to use cookies and similar technologies for the purposes below. "
            "Nothing beyond what the site needs to work is used until you choose, and you can "
            "change your choice at any time."
        ),
        "accept": "Accept",
        "decline": "Decline",
    },
    "fr": {
        "title": "Votre vie privée",
        "body": (
            "Nous souhaitons utiliser des cookies et technologies similaires pour les finalités "
            "ci-dessous. Rien d’autre que ce dont le site a besoin pour fonctionner n’est utilisé "
            "avant votre choix, que vous pouvez modifier à tout moment."
        ),
        "accept": "Accepter",
        "decline": "Refuser",
    },
}

#: Labels and descriptions of the catalog's standard categories: (label, description).
BUILTIN_CATEGORIES: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "en": {
        "functional": (
            "Functional",
            "Features provided by other companies, such as fonts, forms, payments and spam protection.",
        ),
        "analytics": ("Analytics", "Count visits and see how the site is used, so that it can be improved."),
        "marketing": (
            "Marketing",
            "Measure advertising campaigns and show ads; shares your visit with advertising companies.",
        ),
        "media": (
            "Embedded content",
            "Videos, maps, audio and posts from other sites, which may track you when they load.",
        ),
    },
    "fr": {
        "functional": (
            "Fonctionnalités",
            "Services fournis par d’autres sociétés : polices, formulaires, paiements, "
            "protection contre le spam.",
        ),
        "analytics": (
            "Mesure d’audience",
            "Comptent les visites et montrent l’usage du site, afin de l’améliorer.",
        ),
        "marketing": (
            "Marketing",
            "Mesurent les campagnes publicitaires et affichent des publicités ; partagent votre visite "
            "avec des régies publicitaires.",
        ),
        "media": (
            "Contenus intégrés",
            "Vidéos, cartes, sons et publications d’autres sites, "
            "qui peuvent vous suivre dès leur chargement.",
        ),
    },
}

# The other shipped languages (es, de, it, pt, nl, ar, ru, zh) live in translations.py.
BUILTIN.update(translations.MESSAGES)
BUILTIN_CORE.update(translations.CORE)
BUILTIN_CATEGORIES.update(translations.CATEGORIES)

#: Every language with built-in texts.
SHIPPED_LANGUAGES: Final = tuple(BUILTIN)
