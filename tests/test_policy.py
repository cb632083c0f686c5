"""The policy: YAML parsing, validation errors that name file/line/key, defaults and fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentkit import Category, CategoryText, Policy, PolicyError, Service, Texts, load_policy, parse_policy

from .conftest import POLICY_YAML


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "consent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, text))
    return info.value


def test_loads_the_documented_shape(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, POLICY_YAML))
    assert policy.version == "2025-12-01"
    assert policy.optional_categories == ("analytics", "marketing")
    assert policy.required_categories == ("necessary",)
    assert policy.categories["analytics"].services["google-analytics"].cookies == ("_ga", "_ga_*", "_gid")
    assert policy.cookie.max_age_days == 180
    assert policy.cookie.same_site == "lax"
    assert policy.cookie.secure == "auto"
    assert policy.blocking.mode == "remove"
    assert policy.audit.ip == "truncate"
    assert policy.signals.gpc is True
    assert policy.languages == ("en", "fr")


def test_unknown_key_names_file_line_column_and_suggests(tmp_path: Path) -> None:
    text = POLICY_YAML.replace("  max_age_days: 180", "  max_age_dayz: 180")
    error = error_of(tmp_path, text)
    line = text.splitlines().index("  max_age_dayz: 180") + 1
    message = str(error)
    assert f"consent.yaml:{line}:3: cookie.max_age_dayz: unknown key; did you mean 'max_age_days'?" in message


def test_wrong_type_names_the_key_path(tmp_path: Path) -> None:
    text = POLICY_YAML.replace("hosts: [www.googletagmanager.com, www.google-analytics.com]", "hosts: 42")
    error = error_of(tmp_path, text)
    assert "categories.analytics.services.google-analytics.hosts: expected a list, got a whole number" in str(
        error
    )
    assert error.problems[0].mark is not None


def test_list_item_errors_point_at_the_item(tmp_path: Path) -> None:
    text = POLICY_YAML.replace(
        "hosts: [connect.facebook.net, www.facebook.com]", "hosts: [connect.facebook.net, 'bad host']"
    )
    error = error_of(tmp_path, text)
    assert "categories.marketing.services.meta-pixel.hosts[1]: 'bad host' is not a host name" in str(error)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "'bad host'" in row)
    assert error.problems[0].mark is not None and error.problems[0].mark.line == line


def test_category_referenced_but_not_defined(tmp_path: Path) -> None:
    text = POLICY_YAML.replace(
        '      marketing: {label: Marketing, description: "Measures our campaigns."}',
        '      marketing: {label: Marketing, description: "Measures our campaigns."}\n      social: {label: Social}',
    )
    error = error_of(tmp_path, text)
    assert "texts.en.categories.social: category 'social' is not defined under categories" in str(error)


def test_language_missing_a_required_text(tmp_path: Path) -> None:
    text = POLICY_YAML.replace("    decline: Refuser\n", "")
    error = error_of(tmp_path, text)
    assert "texts.fr.decline: required text is missing" in str(error)


def test_max_age_above_thirteen_months_is_rejected(tmp_path: Path) -> None:
    error = error_of(tmp_path, POLICY_YAML.replace("max_age_days: 180", "max_age_days: 400"))
    assert "cookie.max_age_days: must be between 1 and 395" in str(error)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = POLICY_YAML.replace("max_age_days: 180", "max_age_days: lots")
    text = text.replace("  name: consentkit\n", "  name: consentkit\n  same_site: sideways\n  colour: red\n")
    error = error_of(tmp_path, text)
    paths = {problem.path for problem in error.problems}
    assert paths == {"cookie.max_age_days", "cookie.same_site", "cookie.colour"}
    assert "(3 problems)" in str(error)


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    error = error_of(
        tmp_path,
        POLICY_YAML.replace("default_language: en\n", "default_language: en\ndefault_language: fr\n"),
    )
    assert "default_language: duplicate key" in str(error)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    error = error_of(tmp_path, "version: '1'\ncategories: [unclosed\n")
    assert "consent.yaml:" in str(error) and "not valid YAML" in str(error)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(tmp_path / "nope.yaml")


def test_unquoted_date_version_and_norwegian_language_stay_strings(tmp_path: Path) -> None:
    text = POLICY_YAML.replace('version: "2025-12-01"', "version: 2025-12-01").replace("  fr:\n", "  no:\n")
    policy = load_policy(write(tmp_path, text))
    assert policy.version == "2025-12-01"
    assert "no" in policy.texts


def test_placeholders_are_checked(tmp_path: Path) -> None:
    error = error_of(tmp_path, POLICY_YAML.replace("Read our {privacy_policy}.", "Read our {privacy}."))
    assert "texts.en.body: unknown placeholder {privacy}" in str(error)
    text = POLICY_YAML.replace("privacy_policy_url: /privacy\n", "")
    assert "uses {privacy_policy} but no privacy_policy_url is set" in str(error_of(tmp_path, text))


def test_same_site_none_needs_secure(tmp_path: Path) -> None:
    text = POLICY_YAML.replace(
        "  max_age_days: 180\n", "  max_age_days: 180\n  same_site: none\n  secure: false\n"
    )
    assert "same_site: none needs secure" in str(error_of(tmp_path, text))


def test_audit_needs_a_sink(tmp_path: Path) -> None:
    text = POLICY_YAML + "audit:\n  url: log\n  log: false\n"
    assert "records would go nowhere" in str(error_of(tmp_path, text))


def test_theme_values_cannot_escape_css(tmp_path: Path) -> None:
    text = POLICY_YAML + "banner:\n  theme:\n    accent: 'red;}</style><script>'\n"
    assert "banner.theme.accent" in str(error_of(tmp_path, text))


def test_a_policy_built_in_python_is_validated_the_same_way() -> None:
    policy = Policy(
        version="1",
        privacy_policy_url="/privacy",
        categories={
            "necessary": Category(required=True),
            "analytics": Category(
                services={"ga": Service(hosts=["www.google-analytics.com"], cookies=["_ga"])}
            ),
        },
        texts={
            "en": Texts(
                title="Privacy",
                body="Cookies. {privacy_policy}",
                accept="OK",
                decline="No",
                categories={"analytics": CategoryText("Analytics")},
            )
        },
    )
    assert policy.optional_categories == ("analytics",)
    with pytest.raises(PolicyError, match=r"categories.analytics.services.ga.hosts\[0\]"):
        Policy(
            version="1",
            categories={"analytics": Category(services={"ga": Service(hosts=["not a host"])})},
            texts={"en": Texts(title="t", body="b", accept="a", decline="d")},
        )


def test_missing_texts_fall_back_builtin_then_default_language() -> None:
    policy = parse_policy(
        POLICY_YAML.replace(
            "  fr:\n",
            "  sv:\n    title: Integritet\n    body: Kakor.\n    accept: Ja\n    decline: Nej\n  fr:\n",
        )
    )
    french = policy.messages("fr")
    assert french.settings == "Gérer mes choix"  # built-in French
    assert french.fallbacks == ()
    swedish = policy.messages("sv")
    assert swedish.settings == "Manage choices"  # no built-in Swedish: the default language's
    assert "settings" in swedish.fallbacks
    assert swedish.category_labels["analytics"] == "Analytics"
    assert "categories.analytics.label" in swedish.fallbacks
    assert policy.messages("de").language == "en"  # not in the policy, so not offered
    assert policy.messages("xx").language == "en"


def test_a_later_key_is_optional_so_old_policies_keep_loading() -> None:
    minimal = (
        "version: '1'\ncategories:\n  analytics: {}\n"
        "texts:\n  en: {title: T, body: B, accept: A, decline: D}\n"
    )
    policy = parse_policy(minimal)
    assert policy.messages("en").gpc_honored == "Opt-out request honored"
    assert policy.banner.settings_control is True
