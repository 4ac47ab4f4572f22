"""The dashboard's words in English and French, and how numbers and dates are written in each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

LANGS = ("en", "fr")

WORDS: dict[str, tuple[str, str]] = {
    # key: (English, French)
    "app": ("interdit", "interdit"),
    "skip": ("Skip to content", "Aller au contenu"),
    "nav": ("Main menu", "Menu principal"),
    "overview": ("Overview", "Vue d'ensemble"),
    "violations": ("Violations", "Infractions"),
    "catalogue": ("Apps and directives", "Applications et directives"),
    "exceptions": ("Exceptions", "Exceptions"),
    "audit": ("Audit trail", "Journal d'audit"),
    "api": ("API", "API"),
    "sign_in": ("Sign in", "Se connecter"),
    "sign_out": ("Sign out", "Se déconnecter"),
    "username": ("User name", "Nom d'utilisateur"),
    "password": ("Password", "Mot de passe"),
    "bad_login": ("Wrong user name or password.", "Nom d'utilisateur ou mot de passe incorrect."),
    "login_wait": ("Too many failed sign-ins: try again in {seconds} seconds.",
                   "Trop de connexions échouées : réessayez dans {seconds} secondes."),
    "login_busy": ("The server is checking too many sign-ins: try again in a moment.",
                   "Le serveur vérifie trop de connexions : réessayez dans un instant."),
    "signed_in_as": ("Signed in as", "Connecté en tant que"),
    "sign_in_with": ("Sign in with {provider}", "Se connecter avec {provider}"),
    "or_password": ("Or with a user name and password:", "Ou avec un nom d'utilisateur et un mot de passe :"),
    "sign_in_again": ("Sign in again", "Se connecter de nouveau"),
    # refusals of a sign-in through the identity provider ({provider} is its name)
    "oidc.title": ("Sign-in refused", "Connexion refusée"),
    "oidc.no_role": ("{username} is signed in at {provider}, but is in no group that gives a role in interdit. "
                     "Ask an administrator to add you to one of interdit's groups.",
                     "{username} est connecté auprès de {provider}, mais n'appartient à aucun groupe qui donne un "
                     "rôle dans interdit. Demandez à un administrateur de vous ajouter à l'un des groupes "
                     "d'interdit."),
    "oidc.disabled": ("The account {username} is disabled in interdit. Ask an administrator.",
                      "Le compte {username} est désactivé dans interdit. Adressez-vous à un administrateur."),
    "oidc.taken": ("An account named {username} already exists in interdit and signs in another way, so it cannot "
                   "be used through {provider}. Ask an administrator.",
                   "Un compte nommé {username} existe déjà dans interdit et se connecte autrement : il ne peut pas "
                   "servir par {provider}. Adressez-vous à un administrateur."),
    "oidc.no_username": ("{provider} did not give a user name interdit can use. Ask an administrator to check "
                         "the provider's settings.",
                         "{provider} n'a pas fourni de nom d'utilisateur utilisable par interdit. Demandez à un "
                         "administrateur de vérifier les réglages du fournisseur."),
    "oidc.expired": ("This sign-in expired, was started in another browser, or already came back once. "
                     "Start again.",
                     "Cette connexion a expiré, a été commencée dans un autre navigateur ou est déjà revenue une "
                     "fois. Recommencez."),
    "oidc.failed": ("The answer from {provider} could not be verified, so nobody was signed in. Start again; "
                    "if it happens again, tell an administrator.",
                    "La réponse de {provider} n'a pas pu être vérifiée : personne n'a été connecté. Recommencez ; "
                    "si cela se reproduit, prévenez un administrateur."),
    "oidc.provider_refused": ("{provider} did not sign you in ({error}).",
                              "{provider} ne vous a pas connecté ({error})."),
    "oidc.unreachable": ("{provider} cannot be reached. Try again in a moment; if it lasts, tell an administrator.",
                         "{provider} est injoignable. Réessayez dans un moment ; si cela dure, prévenez un "
                         "administrateur."),
    "oidc.passwords_off": ("Sign-in with a password is turned off: sign in with {provider}.",
                           "La connexion par mot de passe est désactivée : connectez-vous avec {provider}."),
    "language": ("Language", "Langue"),
    "other_lang": ("Français", "English"),
    "compliance_rate": ("Compliance rate", "Taux de conformité"),
    "no_device_in_scope": ("no device in scope: no rate", "aucun appareil visé : pas de taux"),
    "coverage": ("Why devices could not be evaluated", "Pourquoi des appareils n'ont pas pu être évalués"),
    "coverage_help": ("A device is compliant only when its source lists every app on it. On these devices it "
                      "lists some apps or none, so a prohibited app cannot be ruled out.",
                      "Un appareil n'est conforme que si sa source en liste toutes les applications. Sur ces "
                      "appareils, elle n'en liste qu'une partie ou aucune : une application interdite ne peut "
                      "être exclue."),
    "coverage_full": ("Every device in scope lists every app.", "Chaque appareil visé liste toutes ses applications."),
    "coverage_reason": ("Reason", "Raison"),
    "fix": ("What to do", "Que faire"),
    "compliant_of": ("{c} of {n} devices in scope comply", "{c} des {n} appareils visés sont conformes"),
    "as_of": ("as of {t}", "au {t}"),
    "as_of_pick": ("Figures as of", "Chiffres au"),
    "as_of_show": ("Show", "Afficher"),
    "as_of_today": ("Back to today", "Revenir à aujourd'hui"),
    "as_of_banner": ("as of {d}: the fleet and the policy's rules as they stood then",
                     "au {d}\u00a0: le parc et les règles de la politique tels qu'ils étaient alors"),
    "as_of_links": ("The lists this page links to (violations, devices) show today's findings.",
                    "Les listes vers lesquelles cette page renvoie (infractions, appareils) montrent les constats "
                    "d'aujourd'hui."),
    "stale_fleet": ("The newest inventory was imported on {d}, more than {n} days ago (the policy's limit): every "
                    "device is stale today, so the figures below do not show the fleet as it was last seen.",
                    "Le dernier inventaire a été importé le {d}, il y a plus de {n}\u00a0jours (la limite de la "
                    "politique)\u00a0: chaque appareil est périmé aujourd'hui, et les chiffres ci-dessous ne "
                    "montrent pas le parc tel qu'il a été vu pour la dernière fois."),
    "stale_offer": ("See the figures as of {d}", "Voir les chiffres au {d}"),
    "over_time": ("Compliance over time", "Conformité dans le temps"),
    "by_directive": ("Compliance by directive", "Conformité par directive"),
    "by_directive_help": ("Each directive the organisation adopted, and its own rules: the devices the rule covers "
                          "and how many comply with it (no violation, blocked-but-present, not-evaluable or stale "
                          "finding under that rule). A device covered by two rules counts under each.",
                          "Chaque directive adoptée par l'organisation, et ses propres règles : les appareils visés "
                          "par la règle et combien la respectent (aucune infraction, application bloquée mais "
                          "présente, appareil non évaluable ou inventaire périmé au titre de cette règle). Un "
                          "appareil visé par deux règles compte pour chacune."),
    "by_directive_time": ("Compliance rate by directive over time", "Taux de conformité par directive dans le temps"),
    "not_in_force": ("not in force yet", "pas encore en vigueur"),
    "own_rule": ("the organisation's own rule", "règle propre à l'organisation"),
    "by_family": ("Devices in violation by app family", "Appareils en infraction par famille d'applications"),
    "by_org_unit": ("By org unit", "Par unité organisationnelle"),
    "org_unit": ("Org unit", "Unité organisationnelle"),
    "by_source": ("By inventory source", "Par source d'inventaire"),
    "outside": ("Outside every rule", "Hors de toute règle"),
    "by_source_help": ("Each source is one device management tool or inventory export. Not evaluable: devices in "
                       "scope whose apps the source cannot see. Stale: devices it has not reported lately.",
                       "Chaque source est un outil de gestion des appareils ou un export d'inventaire. "
                       "Non évaluables : appareils visés dont la source ne voit pas les applications. "
                       "Inventaire périmé : appareils qu'elle n'a pas signalés récemment."),
    "last_inventory": ("Last inventory", "Dernier inventaire"),
    "col.violations": ("Violations", "Infractions"),
    "in_scope": ("In scope", "Visés"),
    "compliant": ("Compliant", "Conformes"),
    "rate": ("Rate", "Taux"),
    "deadlines": ("Deadlines", "Échéances"),
    "rule": ("Rule", "Règle"),
    "directive": ("Directive", "Directive"),
    "deadline": ("Deadline", "Échéance"),
    "days_left": ("Days left", "Jours restants"),
    "overdue": ("overdue", "dépassée"),
    "review": ("Due for review", "À réviser"),
    "attention": ("Devices needing attention", "Appareils à surveiller"),
    "state": ("State", "État"),
    "devices": ("Devices", "Appareils"),
    "state.violation": ("Violation", "Infraction"),
    "state.blocked_present": ("Blocked but present", "Bloquée mais présente"),
    "state.excepted": ("Excepted", "Exemptée"),
    "state.not_evaluable": ("Not evaluable", "Non évaluable"),
    "state.stale": ("Stale", "Inventaire périmé"),
    "state.resolved": ("Resolved", "Résolue"),
    "family": ("App family", "Famille d'applications"),
    "source": ("Source", "Source"),
    "kind": ("Kind", "Type"),
    "any": ("Any", "Tous"),
    "filter": ("Filter", "Filtrer"),
    "device": ("Device", "Appareil"),
    "user": ("User", "Utilisateur"),
    "users": ("Users", "Utilisateurs"),
    "groups": ("Groups or org units", "Groupes ou unités organisationnelles"),
    "first_seen": ("First seen", "Vu la première fois"),
    "last_seen": ("Last seen", "Vu la dernière fois"),
    "none": ("None.", "Aucun."),
    "next_page": ("Next page", "Page suivante"),
    "shown": ("{n} shown", "{n} affichés"),
    "attributes": ("Attributes", "Attributs"),
    "apps": ("Apps", "Applications"),
    "findings": ("Findings", "Constats"),
    "history": ("History", "Historique"),
    "families": ("App families", "Familles d'applications"),
    "directives": ("Directives", "Directives"),
    "vendor": ("Vendor", "Éditeur"),
    "identifiers": ("Identifiers", "Identifiants"),
    "domains": ("Domains", "Domaines"),
    "sources": ("Sources", "Sources"),
    "issuer": ("Issuer", "Émetteur"),
    "effective": ("Effective", "En vigueur"),
    "approver": ("Approver", "Approbateur"),
    "reason": ("Reason", "Motif"),
    "expires": ("Expires", "Expire le"),
    "days_to_expiry": ("Days to expiry", "Jours avant expiration"),
    "safeguards": ("Safeguards", "Mesures de protection"),
    "covers": ("Covers", "Couvre"),
    "grant": ("Grant an exception", "Accorder une exception"),
    "grant_button": ("Grant", "Accorder"),
    "revoke": ("Revoke", "Révoquer"),
    "exception_id": ("Exception id", "Identifiant de l'exception"),
    "families_help": ("App family ids, separated by commas (e.g. tiktok)",
                      "Identifiants de familles, séparés par des virgules (p. ex. tiktok)"),
    "devices_help": ("Device ids (source:id), separated by commas", "Appareils (source:id), séparés par des virgules"),
    "users_help": ("Users, separated by commas", "Utilisateurs, séparés par des virgules"),
    "groups_help": ("Groups or org units, separated by commas", "Groupes ou unités, séparés par des virgules"),
    "safeguards_help": ("Safeguards, separated by commas", "Mesures, séparées par des virgules"),
    "granted": ("Exception {id} granted.", "Exception {id} accordée."),
    "revoked": ("Exception {id} revoked.", "Exception {id} révoquée."),
    "error": ("Something went wrong", "Une erreur s'est produite"),
    "forbidden": ("Your role may not see this page.", "Votre rôle ne permet pas d'afficher cette page."),
    "not_found": ("Not found.", "Introuvable."),
    "no_data": ("No inventory has been imported yet.", "Aucun inventaire n'a encore été importé."),
    "actor": ("Actor", "Auteur"),
    "action": ("Action", "Action"),
    "target": ("Target", "Objet"),
    "time": ("Time", "Heure"),
    "chain_ok": ("The chain of {n} entries is intact. Head: {h}", "La chaîne de {n} entrées est intacte. Tête : {h}"),
    "chain_broken": ("The chain is broken at entry {n}: {r}", "La chaîne est rompue à l'entrée {n} : {r}"),
    "export": ("Export (JSON lines)", "Exporter (JSON lines)"),
    "stale_devices": ("Stale inventories", "Inventaires périmés"),
    "not_evaluable_devices": ("Not evaluable", "Non évaluables"),
    "violation_devices": ("In violation", "En infraction"),
    "app_id": ("App", "Application"),
    "version": ("Version", "Version"),
    "removed": ("Removed", "Retirée"),
    "present": ("present", "présente"),
    "sightings": ("Network sightings", "Détections réseau"),
    "attr.source": ("Source", "Source"),
    "attr.device_id": ("Device id", "Identifiant de l'appareil"),
    "attr.platform": ("Platform", "Plateforme"),
    "attr.ownership": ("Ownership", "Propriété"),
    "attr.management": ("Management", "Gestion"),
    "attr.observed_at": ("Inventory from", "Inventaire du"),
    "attr.supervised": ("Supervised", "Supervisé"),
    "attr.user": ("User", "Utilisateur"),
    "attr.name": ("Name", "Nom"),
    "attr.model": ("Model", "Modèle"),
    "attr.os_version": ("OS version", "Version du système"),
    "attr.org_unit": ("Org unit", "Unité organisationnelle"),
    "attr.groups": ("Groups", "Groupes"),
    "attr.org_labels": ("Labels from the source (org unit)", "Étiquettes de la source (unité)"),
    "attr.addresses": ("Addresses", "Adresses"),
    "attr.coverage_gap": ("Coverage gap", "Lacune de couverture"),
    "attr.valid_from": ("From", "Du"),
    "attr.valid_to": ("Until", "Au"),
    "day": ("Day", "Jour"),
    "client": ("Client address", "Adresse du client"),
    "count": ("Requests", "Requêtes"),
    "example": ("Example name", "Exemple de nom"),
    "weak": ("weak: only an answer named it", "faible : seule une réponse le nommait"),
    "strong": ("the device looked the name up", "l'appareil a résolu le nom"),
    "strength": ("Evidence", "Preuve"),
    "apks": ("App analyses", "Analyses d'applications"),
    "apk_files": ("Apps to analyse (Android .apk, iPhone .ipa or a zipped .app)",
                  "Applications à analyser (Android .apk, iPhone .ipa ou .app compressé)"),
    "analyse": ("Analyse", "Analyser"),
    "analysed": ("{n} files analysed.", "{n} fichiers analysés."),
    "package": ("Package", "Paquet"),
    "verdict": ("Verdict", "Verdict"),
    "score": ("Score", "Score"),
    "sdk_vendors": ("SDK and endpoint vendors", "Éditeurs des SDK et des points d'accès"),
    "apk_identity": ("Identity and signing", "Identité et signature"),
    "more_rows": ("{n} more not shown (the JSON report has them all).",
                  "{n} de plus non affichés (le rapport JSON les contient tous)."),
    "stored_analyses": ("Latest analysis of each package", "Dernière analyse de chaque paquet"),
    "verdict.acceptable": ("Acceptable", "Acceptable"),
    "verdict.needs_review": ("Needs review", "À examiner"),
    "verdict.unacceptable": ("Unacceptable", "Inacceptable"),
    # downloads (overview) and the jobs page; French strings keep no-break spaces before : ; ! ? »
    "downloads": ("Downloads", "Téléchargements"),
    "downloads_help": ("As of {d}, in English.", "Au {d}, en français."),
    "dl.report_html": ("Management report (HTML)", "Rapport de gestion (HTML)"),
    "dl.report_pdf": ("Management report (PDF)", "Rapport de gestion (PDF)"),
    "dl.letter": ("on US Letter paper", "sur papier Lettre US"),
    "dl.findings_xlsx": ("Findings (Excel spreadsheet)", "Constats (classeur Excel)"),
    "dl.findings_csv": ("Findings (CSV)", "Constats (CSV)"),
    "jobs": ("Scheduled jobs", "Tâches planifiées"),
    "jobs_help": ("The jobs the worker runs on their schedule (interdit worker), as of {t}.",
                  "Les tâches que le processus de travail exécute selon leur calendrier (interdit worker), "
                  "au {t}."),
    "no_jobs": ("No job is scheduled: publish a schedule with interdit worker.",
                "Aucune tâche n'est planifiée\u00a0: publiez un calendrier avec interdit worker."),
    "job": ("Job", "Tâche"),
    "job_kind": ("Kind", "Type"),
    "job_schedule": ("Schedule", "Calendrier"),
    "job_last_run": ("Last run", "Dernière exécution"),
    "job_last_success": ("Last success", "Dernier succès"),
    "job_next_run": ("Next run", "Prochaine exécution"),
    "job_failures": ("Failures", "Échecs"),
    "job_in_a_row": ("{n} in a row", "{n} d'affilée"),
    "job_disabled": ("disabled", "désactivée"),
    "job_never": ("never", "jamais"),
    "job_status.ok": ("succeeded", "réussie"),
    "job_status.failed": ("failed", "échouée"),
    "job_status.running": ("running", "en cours"),
}


def pick_lang(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's choice, else the browser's preferred of en/fr (by q value), else English."""
    if cookie in LANGS:
        return cookie
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if not 0 < q <= 1:
            continue
        base = tag.strip().lower().split("-")[0]
        if base in LANGS and q > best_q:
            best, best_q = base, q
    return best


# French typography (the rule the reports follow): a no-break space before : and », after «, a narrow one before
# ; ! ?, so a line never begins with the mark. Applied to the dashboard's own words, never to the values put in.
_FR_SPACES = ((" :", "\u00a0:"), (" ;", "\u202f;"), (" !", "\u202f!"), (" ?", "\u202f?"),
              ("« ", "«\u00a0"), (" »", "\u00a0»"))


def typeset_fr(text: str) -> str:
    for plain, fixed in _FR_SPACES:
        text = text.replace(plain, fixed)
    return text


FRENCH = {key: typeset_fr(fr) for key, (_, fr) in WORDS.items()}


def translator(lang: str) -> Callable[..., str]:
    index = 1 if lang == "fr" else 0

    def t(key: str, **values: object) -> str:
        pair = WORDS.get(key)
        text = (FRENCH[key] if index else pair[0]) if pair else key
        return text.format(**values) if values else text

    return t


def number(value: float | int, lang: str) -> str:
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def percent(rate: float | None, lang: str) -> str:
    """"87.5%" / "87,5 %"; "—" when there is no rate (no device in scope: never a 100 % of nothing)."""
    if rate is None:
        return "—"
    text = f"{rate * 100:.1f}"
    return f"{text.replace('.', ',')}\u00a0%" if lang == "fr" else f"{text}%"


def when(value: datetime | date | None, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()
