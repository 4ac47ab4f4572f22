"""Analysis: what an app file (Android APK, iOS IPA) proves about itself, each claim with its evidence.

What an output module may use (see docs/guides/add-an-analysis-output.md):

    outputs                          the registry: `@outputs.register` on a class with `name`, `extension`,
                                     `media_type` and `render(reports, lang) -> str`
    AnalysisOutput                   what an output is
    AppReport and its parts          Identity, Signing, Permission, SdkMatch, Endpoint, Weakness, Problem,
                                     Score, Matches; report_from_json() reads one back; SCHEMA_VERSION,
                                     ANALYZER_VERSION
    word(key, lang), pick(VERDICTS, verdict, lang), LANGUAGES    the analyzer's words in "en" or "fr"
"""

from interdit.analysis.i18n import LANGUAGES, VERDICTS, pick, word
from interdit.analysis.output import AnalysisOutput, outputs
from interdit.analysis.report import (
    ANALYZER_VERSION,
    SCHEMA_VERSION,
    AppReport,
    Endpoint,
    Identity,
    Matches,
    Permission,
    Problem,
    Score,
    SdkMatch,
    Signing,
    Weakness,
    report_from_json,
)

__all__ = [
    "ANALYZER_VERSION",
    "LANGUAGES",
    "SCHEMA_VERSION",
    "VERDICTS",
    "AnalysisOutput",
    "AppReport",
    "Endpoint",
    "Identity",
    "Matches",
    "Permission",
    "Problem",
    "Score",
    "SdkMatch",
    "Signing",
    "Weakness",
    "outputs",
    "pick",
    "report_from_json",
    "word",
]
