"""Built-in banner messages for the languages consentkit ships (English and French).

A policy must give the core texts (title, body, accept, decline) itself; every other
message has a default here so that a policy written for an older version keeps loading.
"""

from __future__ import annotations

from typing import Final

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
    },
}
