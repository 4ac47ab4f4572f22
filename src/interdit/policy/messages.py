"""What the policy loader tells a person, in English and French: (message, fix) templates by key.

The language is the policy's own `language:` when it can be read, else English.
"""

from __future__ import annotations

from typing import Any

_EN: dict[str, tuple[str, str]] = {
    "empty": ("the policy file is empty", "run 'interdit init' to write a commented starter policy"),
    "too-many": ("the document has more than {n} values (repeated aliases?)",
                 "write the policy without deeply nested or repeated YAML aliases"),
    "too-deep": ("the document is nested more than {n} levels deep",
                 "write the policy without deeply nested or repeated YAML aliases"),
    "self-alias": ("the document refers to itself through an alias",
                   "write the policy without deeply nested or repeated YAML aliases"),
    "not-mapping": ("the policy must be a mapping of keys, not {kind}",
                    "start from 'interdit init': organisation, adopt, rules and exceptions are keys at the top"),
    "yaml-duplicate": ("YAML syntax: {what}",
                       "each key may appear only once in a mapping: remove or rename the repeated one"),
    "yaml": ("YAML syntax: {what}",
             "check the indentation, colons, brackets and quotes on this line and the one before it"),
    "yaml-deep": ("YAML syntax: the document is nested too deeply", "flatten the document"),
    "yaml-other": ("YAML syntax: {what}", "check the file is a YAML document like the one 'interdit init' writes"),
    "unknown-key": ("unknown key '{key}'", "{hint}the keys allowed here are: {allowed}"),
    "unknown-key-in": ("unknown key '{key}' in this {owner}", "{hint}the keys allowed here are: {allowed}"),
    "did-you-mean-key": ("", "did you mean '{guess}'? "),
    "missing": ("'{key}' is missing", "add '{example}'"),
    "missing-from": ("'{key}' is missing from this {owner}", "add '{example}'"),
    "show": ("", "write it as '{example}'"),
    "show-docs": ("", "see docs/policy.md for the form of this key"),
    "type": ("'{name}' must be {wanted}, not {kind}", ""),
    "enum": ("'{value}' is not a valid value for '{name}'", "{hint}use one of: {options}"),
    "did-you-mean": ("", "did you mean '{guess}'? "),
    "date-form": ("'{name}' must be a date written YYYY-MM-DD, not '{value}'", ""),
    "org-unit": ("org unit '{value}' must be a path starting with '/'",
                 "write the full path, e.g. /Finance/Payroll (or list a group under 'groups')"),
    "app-id": ("'{value}' is not an app identifier",
               "write PLATFORM:IDENTIFIER with platform android, ios, macos, windows or web, "
               "e.g. android:com.example.app"),
    "negative-grace": ("grace_days cannot be negative ({value})",
                       "use 0 for no grace period, or the number of days allowed after the effective date"),
    "minimum": ("'{name}' must be at least {limit}, not {value}", ""),
    "maximum": ("'{name}' must be at most {limit}, not {value}", ""),
    "min-length": ("'{name}' must not be empty", ""),
    "min-items": ("'{name}' must list at least one entry", ""),
    "const": ("'{name}' must be {limit}, not {value}", ""),
    "schema": ("'{name}': {text}", ""),
    "not-a-day": ("'{key}' is not a real day: {value}", "check the month and the day (YYYY-MM-DD)"),
    "unknown-id": ("unknown {what} '{value}'", "{how}"),
    "unknown-id-guess": ("unknown {what} '{value}'; did you mean '{guess}'?",
                         "write '{guess}' instead of '{value}', or {how}"),
    "unknown-directive": ("unknown directive '{value}'",
                          "run 'interdit catalogue list' to see every directive's id"),
    "unknown-directive-guess": ("unknown directive '{value}'; did you mean '{guess}'?",
                                "write 'directive: {guess}', or run 'interdit catalogue list' to see every "
                                "directive's id"),
    "how-family": ("", "run 'interdit catalogue search NAME' to find a family's id"),
    "how-vendor": ("", "run 'interdit catalogue search NAME' to find a vendor's id"),
    "prohibited-none": ("rule '{id}': 'prohibited' stands for the vendors of the families the policy prohibits, "
                        "but no rule prohibits a family",
                        "prohibit a family (adopt a directive, or list 'families' or 'vendors' in a rule), or "
                        "name the vendor ids"),
    "broad-prefix": ("prefix '{value}' is too broad: it would match every '{ident}.*' app",
                     "use a vendor's own prefix of at least two parts, e.g. android:com.example"),
    "in-and-out": ("'{group}' is both included and excluded",
                   "remove it from 'groups'/'org_units' or from 'exclude_groups'"),
    "duplicate-rule": ("duplicate rule id '{id}' (first used on line {line})",
                       "give each rule its own id; to adopt a directive twice, give the second adoption an 'id:'"),
    "duplicate-exception": ("duplicate exception id '{id}' (first used on line {line})",
                            "give each exception its own id"),
    "interim": ("rule '{id}' is interim but has no review date",
                "add 'review_by: YYYY-MM-DD': the day the interim rule must be reviewed"),
    "review-early": ("rule '{id}' is to be reviewed ({review}) before it takes effect ({effective})",
                     "set 'review_by' on or after the effective date"),
    "no-rules": ("the policy prohibits nothing: it has no 'adopt' and no 'rules'",
                 "adopt a directive, e.g. 'adopt: [{{directive: ca-tbs-2023-tiktok}}]', or add a rule"),
    "rule-empty": ("rule '{id}' prohibits nothing",
                   "list 'families', 'vendors', 'identifiers', 'prefixes' or 'evidence' in the rule"),
    "exc-unprohibited": ("exception '{id}' allows '{family}', which no rule prohibits",
                         "remove '{family}' from the exception, or adopt a directive or add a rule that "
                         "prohibits '{family}'"),
    "exc-nobody": ("exception '{id}' covers no device, user or group",
                   "add 'devices', 'users' or 'groups' (an exception never covers the whole fleet)"),
    "exc-order": ("exception '{id}' expires ({expires}) on or before the day it was granted ({granted})",
                  "check both dates: 'expires' is the first day it no longer applies"),
    "exc-review": ("exception '{id}' is to be reviewed ({review}) after it expires ({expires})",
                   "set 'review_by' before 'expires'"),
    "orgmap-empty": ("this org-unit mapping names no label to match",
                     "add one of: {kinds} (e.g. 'category: Direction des ressources humaines')"),
    "orgmap-path": ("org unit '{value}' is not a clean path",
                    "write it as /Level/Level, without '//', a trailing '/' or spaces around a level"),
    "orgmap-regex": ("'{value}' is not a valid regular expression ({why})",
                     "fix the expression, or use 'match: glob' (*, ?) or exact values"),
    "orgmap-kind": ("a source of type '{source}' gives no '{kind}' label",
                    "use one of: {kinds}; or name the source by its own name if it is of another type"),
    "orgmap-no-category": ("Intune's default category '{value}' says nobody categorised the device: it places "
                           "no device in an org unit",
                           "categorise the devices in Intune (Devices > Device categories), then map those "
                           "categories"),
    "orgmap-conflict": ("this mapping sends the same labels to '{unit}', but line {line} sends them to '{other}'",
                        "keep one of the two entries: a device can belong to only one org unit"),
    "orgmap-duplicate": ("this mapping repeats the one at line {line}", "remove one of the two entries"),
    "summary-one": ("1 problem in the policy", ""),
    "summary": ("{n} problems in the policy", "fix each problem listed, then run 'interdit policy check' again"),
}

_FR: dict[str, tuple[str, str]] = {
    "empty": ("le fichier de politique est vide",
              "lancez 'interdit init' pour écrire une politique de départ commentée"),
    "too-many": ("le document compte plus de {n} valeurs (alias répétés ?)",
                 "écrivez la politique sans imbrication profonde ni alias YAML répétés"),
    "too-deep": ("le document est imbriqué sur plus de {n} niveaux",
                 "écrivez la politique sans imbrication profonde ni alias YAML répétés"),
    "self-alias": ("le document se référence lui-même par un alias",
                   "écrivez la politique sans imbrication profonde ni alias YAML répétés"),
    "not-mapping": ("la politique doit être un ensemble de clés, pas {kind}",
                    "partez de 'interdit init' : organisation, adopt, rules et exceptions sont des clés de premier "
                    "niveau"),
    "yaml-duplicate": ("syntaxe YAML : {what}",
                       "chaque clé ne peut figurer qu'une fois : supprimez ou renommez la clé répétée"),
    "yaml": ("syntaxe YAML : {what}",
             "vérifiez l'indentation, les deux-points, les crochets et les guillemets de cette ligne et de la "
             "précédente"),
    "yaml-deep": ("syntaxe YAML : le document est imbriqué trop profondément", "aplatissez le document"),
    "yaml-other": ("syntaxe YAML : {what}",
                   "vérifiez que le fichier est un document YAML comme celui qu'écrit 'interdit init'"),
    "unknown-key": ("clé inconnue « {key} »", "{hint}les clés permises ici sont : {allowed}"),
    "unknown-key-in": ("clé inconnue « {key} » dans cette {owner}", "{hint}les clés permises ici sont : {allowed}"),
    "did-you-mean-key": ("", "vouliez-vous dire « {guess} » ? "),
    "missing": ("« {key} » est absente", "ajoutez '{example}'"),
    "missing-from": ("« {key} » est absente de cette {owner}", "ajoutez '{example}'"),
    "show": ("", "écrivez-la ainsi : '{example}'"),
    "show-docs": ("", "voir docs/policy.md pour la forme de cette clé"),
    "type": ("« {name} » doit être {wanted}, pas {kind}", ""),
    "enum": ("« {value} » n'est pas une valeur permise pour « {name} »", "{hint}valeurs permises : {options}"),
    "did-you-mean": ("", "vouliez-vous dire « {guess} » ? "),
    "date-form": ("« {name} » doit être une date écrite AAAA-MM-JJ, pas « {value} »", ""),
    "org-unit": ("l'unité « {value} » doit être un chemin commençant par « / »",
                 "écrivez le chemin complet, p. ex. /Finances/Paie (ou indiquez un groupe sous 'groups')"),
    "app-id": ("« {value} » n'est pas un identifiant d'application",
               "écrivez PLATEFORME:IDENTIFIANT avec la plateforme android, ios, macos, windows ou web, "
               "p. ex. android:com.example.app"),
    "negative-grace": ("grace_days ne peut pas être négatif ({value})",
                       "mettez 0 pour aucun délai, ou le nombre de jours accordés après la date d'entrée en vigueur"),
    "minimum": ("« {name} » doit valoir au moins {limit}, pas {value}", ""),
    "maximum": ("« {name} » doit valoir au plus {limit}, pas {value}", ""),
    "min-length": ("« {name} » ne doit pas être vide", ""),
    "min-items": ("« {name} » doit contenir au moins une entrée", ""),
    "const": ("« {name} » doit valoir {limit}, pas {value}", ""),
    "schema": ("« {name} » : {text}", ""),
    "not-a-day": ("« {key} » n'est pas un jour qui existe : {value}", "vérifiez le mois et le jour (AAAA-MM-JJ)"),
    "unknown-id": ("{what} « {value} » introuvable", "{how}"),
    "unknown-id-guess": ("{what} « {value} » introuvable ; vouliez-vous dire « {guess} » ?",
                         "écrivez « {guess} » au lieu de « {value} », ou {how}"),
    "unknown-directive": ("directive inconnue « {value} »",
                          "lancez 'interdit catalogue list' pour voir l'identifiant de chaque directive"),
    "unknown-directive-guess": ("directive inconnue « {value} » ; vouliez-vous dire « {guess} » ?",
                                "écrivez 'directive: {guess}', ou lancez 'interdit catalogue list' pour voir "
                                "l'identifiant de chaque directive"),
    "how-family": ("", "lancez 'interdit catalogue search NOM' pour trouver l'identifiant d'une famille"),
    "how-vendor": ("", "lancez 'interdit catalogue search NOM' pour trouver l'identifiant d'un éditeur"),
    "prohibited-none": ("règle '{id}' : 'prohibited' désigne les éditeurs des familles que la politique interdit, "
                        "mais aucune règle n'interdit de famille",
                        "interdisez une famille (adoptez une directive, ou listez 'families' ou 'vendors' dans une "
                        "règle), ou nommez les identifiants des éditeurs"),
    "broad-prefix": ("le préfixe « {value} » est trop large : il viserait toute application '{ident}.*'",
                     "utilisez le préfixe propre à un éditeur, d'au moins deux parties, p. ex. android:com.example"),
    "in-and-out": ("« {group} » est à la fois inclus et exclu",
                   "retirez-le de 'groups'/'org_units' ou de 'exclude_groups'"),
    "duplicate-rule": ("identifiant de règle « {id} » en double (déjà utilisé à la ligne {line})",
                       "donnez à chaque règle son propre identifiant ; pour adopter deux fois une directive, "
                       "donnez un 'id:' à la seconde adoption"),
    "duplicate-exception": ("identifiant d'exception « {id} » en double (déjà utilisé à la ligne {line})",
                            "donnez à chaque exception son propre identifiant"),
    "interim": ("la règle « {id} » est provisoire mais n'a pas de date de réexamen",
                "ajoutez 'review_by: AAAA-MM-JJ' : le jour où la règle provisoire doit être réexaminée"),
    "review-early": ("la règle « {id} » doit être réexaminée ({review}) avant son entrée en vigueur ({effective})",
                     "fixez 'review_by' à la date d'entrée en vigueur ou après"),
    "no-rules": ("la politique n'interdit rien : elle n'a ni 'adopt' ni 'rules'",
                 "adoptez une directive, p. ex. 'adopt: [{{directive: ca-tbs-2023-tiktok}}]', ou ajoutez une règle"),
    "rule-empty": ("la règle « {id} » n'interdit rien",
                   "indiquez 'families', 'vendors', 'identifiers', 'prefixes' ou 'evidence' dans la règle"),
    "exc-unprohibited": ("l'exception « {id} » permet « {family} », qu'aucune règle n'interdit",
                         "retirez « {family} » de l'exception, ou adoptez une directive ou ajoutez une règle qui "
                         "l'interdit"),
    "exc-nobody": ("l'exception « {id} » ne vise aucun appareil, utilisateur ni groupe",
                   "ajoutez 'devices', 'users' ou 'groups' (une exception ne vise jamais tout le parc)"),
    "exc-order": ("l'exception « {id} » expire ({expires}) au plus tard le jour de son octroi ({granted})",
                  "vérifiez les deux dates : 'expires' est le premier jour où elle ne s'applique plus"),
    "exc-review": ("l'exception « {id} » doit être réexaminée ({review}) après son expiration ({expires})",
                   "fixez 'review_by' avant 'expires'"),
    "orgmap-empty": ("cette correspondance d'unité ne nomme aucune étiquette à reconnaître",
                     "ajoutez l'une de : {kinds} (p. ex. 'category: Direction des ressources humaines')"),
    "orgmap-path": ("l'unité « {value} » n'est pas un chemin propre",
                    "écrivez-la /Niveau/Niveau, sans '//', sans '/' final ni espaces autour d'un niveau"),
    "orgmap-regex": ("« {value} » n'est pas une expression régulière valide ({why})",
                     "corrigez l'expression, ou utilisez 'match: glob' (*, ?) ou des valeurs exactes"),
    "orgmap-kind": ("une source de type « {source} » ne donne pas d'étiquette « {kind} »",
                    "utilisez l'une de : {kinds} ; ou nommez la source par son propre nom si elle est d'un autre type"),
    "orgmap-no-category": ("la catégorie par défaut d'Intune « {value} » dit que personne n'a classé l'appareil : "
                           "elle ne place aucun appareil dans une unité",
                           "classez les appareils dans Intune (Appareils > Catégories d'appareils), puis faites "
                           "correspondre ces catégories"),
    "orgmap-conflict": ("cette correspondance envoie les mêmes étiquettes vers « {unit} », mais la ligne {line} "
                        "les envoie vers « {other} »",
                        "gardez l'une des deux entrées : un appareil n'appartient qu'à une seule unité"),
    "orgmap-duplicate": ("cette correspondance répète celle de la ligne {line}", "retirez l'une des deux entrées"),
    "summary-one": ("1 problème dans la politique", ""),
    "summary": ("{n} problèmes dans la politique",
                "corrigez chaque problème indiqué, puis relancez 'interdit policy check'"),
}

WORDS = {
    "en": {"string": "text", "integer": "a whole number", "boolean": "true or false", "array": "a list",
           "object": "a mapping", "number": "a number", "nothing": "nothing", "true/false": "true/false",
           "adoption": "adoption", "rule": "rule", "exception": "exception", "scope": "scope",
           "evidence": "evidence", "directive": "directive", "family": "family", "vendor": "vendor",
           "org-unit-map": "org-unit mapping"},
    "fr": {"string": "du texte", "integer": "un nombre entier", "boolean": "true ou false", "array": "une liste",
           "object": "un ensemble de clés", "number": "un nombre", "nothing": "rien", "true/false": "true/false",
           "adoption": "adoption", "rule": "règle", "exception": "exception", "scope": "portée",
           "evidence": "preuve", "directive": "directive", "family": "famille", "vendor": "éditeur",
           "org-unit-map": "correspondance d'unité"},
}

_ALL = {"en": _EN, "fr": _FR}


def say(lang: str, msg: str, /, **values: Any) -> tuple[str, str]:
    """The (message, fix) for `msg` in `lang` (English when the language is unknown)."""
    message, fix = _ALL.get(lang, _EN)[msg]
    return message.format(**values), fix.format(**values)


def word(lang: str, key: str, /) -> str:
    return WORDS.get(lang, WORDS["en"]).get(key, key)
